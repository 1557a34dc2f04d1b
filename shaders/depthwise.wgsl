// Depthwise convolution (group = input channels, MULT outputs per input
// channel) on packed NHWC lanes (composed after requant.wgsl and lanes8.wgsl).
// One invocation per output word: 4 output channels of one output pixel.
// Golden: depthwiseAccumulate and intMatmulLayer in src/cpu/golden/int-conv.ts:
//   acc[co] = bias[co] + sum_{ky,kx} w[co, ky, kx] * (q_in[ci, iy, ix] - Z_in),  ci = co / mult,
// taps in the padding contributing 0 (the real zero), then
//   out = requantize(acc, m0[co], shift[co], Z_out, lo, hi)   (eq. 17).
// Weights are the layer's packed rows (eq. 20): row co holds its kh*kw taps in
// lanes of LANE_BITS bits, k_words words per row; a lane is sign-extended by
// unpack_lane.

override WORKGROUP_SIZE: u32 = 64u;
override LANE_BITS: u32 = 8u;

struct DepthwiseParams {
  words: u32,
  h: i32,
  w: i32,
  c_in: u32,
  oh: u32,
  ow: u32,
  c_out: u32,
  mult: u32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  pad_top: i32,
  pad_left: i32,
  k_words: u32,
  in_off: i32,
  in_zero_point: i32,
  out_zero_point: i32,
  out_lo: i32,
  out_hi: i32,
  out_off: i32,
}

@group(0) @binding(0) var<uniform> params: DepthwiseParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<i32>;
@group(0) @binding(4) var<storage, read> m0: array<i32>;
@group(0) @binding(5) var<storage, read> shift: array<i32>;
@group(0) @binding(6) var<storage, read_write> y: array<u32>;

// docs/quantization.md, unpackLane: lane i of a word of LANE_BITS-bit lanes, sign-extended.
fn unpack_lane(word: u32, i: u32) -> i32 {
  return i32(word << (32u - (i + 1u) * LANE_BITS)) >> (32u - LANE_BITS);
}

fn weight(co: u32, k: u32) -> i32 {
  let per_word = 32u / LANE_BITS;
  return unpack_lane(weights[co * params.k_words + k / per_word], k % per_word);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= params.words) {
    return;
  }
  let c4_out = (params.c_out + 3u) / 4u;
  let c4_in = (params.c_in + 3u) / 4u;
  let cw = i % c4_out;
  let pixel = i / c4_out;
  let ox = i32(pixel % params.ow);
  let oy = i32((pixel / params.ow) % params.oh);
  let b = i32(pixel / (params.ow * params.oh));
  let y0 = oy * params.sh - params.pad_top;
  let x0 = ox * params.sw - params.pad_left;
  let shift_in = params.in_off - params.in_zero_point;
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    let co = cw * 4u + l;
    if (co >= params.c_out) {
      continue;
    }
    let ci = co / params.mult;
    var acc = bias[co];
    for (var ky = 0; ky < params.kh; ky++) {
      let iy = y0 + ky * params.dh;
      if (iy < 0 || iy >= params.h) {
        continue;
      }
      for (var kx = 0; kx < params.kw; kx++) {
        let ix = x0 + kx * params.dw;
        if (ix < 0 || ix >= params.w) {
          continue;
        }
        let word = x[u32((b * params.h + iy) * params.w + ix) * c4_in + ci / 4u];
        let a = i32(word << (24u - 8u * (ci % 4u))) >> 24u;
        acc += weight(co, u32(ky * params.kw + kx)) * (a + shift_in);
      }
    }
    v[l] = requantize(acc, m0[co], shift[co], params.out_zero_point, params.out_lo, params.out_hi) - params.out_off;
  }
  y[i] = pack_a8(v);
}
