// Depthwise convolution (group = input channels, `mult` outputs per input
// channel) on packed NHWC lanes. Composed after requant.wgsl, grid.wgsl,
// lanes8.wgsl, dot4_unpacked.wgsl and weight_lanes.wgsl (for lanes_of_word
// and lanes_of_weights). One invocation per output word: 4 output channels of
// one output pixel, accumulated as one vec4<i32>.
// Golden: depthwiseAccumulate and intMatmulLayer in src/cpu/golden/int-conv.ts:
//   acc[co] = bias[co] + sum_{ky,kx} w[co, ky, kx] * (q_in[ci, iy, ix] - Z_in),  ci = co / mult,
// taps in the padding contributing 0 (the real zero), then
//   out = requantize(acc, m0[co], shift[co], Z_out, lo, hi)   (eq. 17).
// Weights (src/gpu/ops/depthwise.ts): per output word, the taps in order,
// each tap's 4 channels as 4 lanes of W_LANE_BITS bits (plane-major below
// 8 bits, as the igemm weights), w_words_per_row words per output word.
// With MULT1 (mult = 1) the 4 output channels read the 4 lanes of one input
// word; otherwise each lane is gathered from its input channel.

override WORKGROUP_SIZE: u32 = 64u;
override W_LANE_BITS: u32 = 8u;
override MULT1: bool = true;

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
  w_words_per_row: u32,
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

// Lane `ci % 4` of the word holding input channel ci at pixel `pixel`, sign-extended.
fn input_lane(pixel: u32, c4_in: u32, ci: u32) -> i32 {
  return i32(x[pixel * c4_in + ci / 4u] << (24u - 8u * (ci % 4u))) >> 24u;
}

// The output lane of channel co (0 past the last channel: padding lanes are 0).
fn out_lane(acc: i32, co: u32) -> u32 {
  if (co >= params.c_out) {
    return 0u;
  }
  let v = requantize(acc + bias[co], m0[co], shift[co], params.out_zero_point, params.out_lo, params.out_hi) - params.out_off;
  return bitcast<u32>(v) & 0xffu;
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
  let shift_in = vec4<i32>(params.in_off - params.in_zero_point);
  // Input channel of each output lane (lanes past the last channel clamped: computed, never stored).
  let ci = min(vec4<u32>(cw * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.c_out - 1u)) / params.mult;
  let per_word = 8u / W_LANE_BITS;
  let w_row = cw * params.w_words_per_row;
  var acc = vec4<i32>(0);
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
      let p = u32((b * params.h + iy) * params.w + ix);
      var a: vec4<i32>;
      if (MULT1) {
        a = lanes_of_word(x[p * c4_in + cw]);
      } else {
        a = vec4<i32>(input_lane(p, c4_in, ci.x), input_lane(p, c4_in, ci.y), input_lane(p, c4_in, ci.z), input_lane(p, c4_in, ci.w));
      }
      let t = u32(ky * params.kw + kx);
      acc += lanes_of_weights(weights[w_row + t / per_word], t % per_word) * (a + shift_in);
    }
  }
  let c = cw * 4u;
  y[i] = out_lane(acc.x, c) | (out_lane(acc.y, c + 1u) << 8u) | (out_lane(acc.z, c + 2u) << 16u) | (out_lane(acc.w, c + 3u) << 24u);
}
