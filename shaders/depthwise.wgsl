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
//
// Tile: one invocation computes the output word of COLS neighbouring pixels
// of a row (named registers acc0..acc3), so each tap's weight word is loaded
// and unpacked once for COLS pixels; a tap in the padding contributes 0
// through a select (its load clamped into the row), and pixels past the
// row's end are computed, never stored.

override W_LANE_BITS: u32 = 8u;
override MULT1: bool = true;
// Output pixels per invocation, 1..4.
override COLS: u32 = 4u;

struct DepthwiseParams {
  // Invocations: N * oh * ceil(ow / COLS) * ceil(c_out / 4).
  invocations: u32,
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
  // A layer whose tensors pass the adapter's binding limit runs in pieces of
  // whole output rows (src/gpu/ops/depthwise.ts, depthwisePieces): this
  // dispatch's items are first .. first + invocations - 1, and x and y are
  // bound from their words in_base and out_base. Whole: 0, 0, 0.
  first: u32,
  in_base: u32,
  out_base: u32,
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
  return i32(x[pixel * c4_in + ci / 4u - params.in_base] << (24u - 8u * (ci % 4u))) >> 24u;
}

// The 4 input lanes that output word cw reads at input pixel p.
fn input_lanes(p: u32, c4_in: u32, cw: u32, ci: vec4<u32>) -> vec4<i32> {
  if (MULT1) {
    return lanes_of_word(x[p * c4_in + cw - params.in_base]);
  }
  return vec4<i32>(input_lane(p, c4_in, ci.x), input_lane(p, c4_in, ci.y), input_lane(p, c4_in, ci.z), input_lane(p, c4_in, ci.w));
}

// One tap of one output pixel: the weights times the input moved to its real zero,
// 0 where the tap's column ix lies in the padding (row: the index of the tap row's first pixel).
fn tap(row: u32, ix: i32, c4_in: u32, cw: u32, ci: vec4<u32>, wv: vec4<i32>, shift_in: vec4<i32>) -> vec4<i32> {
  let inside = (ix >= 0) & (ix < params.w);
  let p = row + u32(clamp(ix, 0, params.w - 1));
  return select(vec4<i32>(0), wv * (input_lanes(p, c4_in, cw, ci) + shift_in), inside);
}

// The output lane of channel co (0 past the last channel: padding lanes are 0).
fn out_lane(acc: i32, co: u32) -> u32 {
  if (co >= params.c_out) {
    return 0u;
  }
  let v = requantize(acc + bias[co], m0[co], shift[co], params.out_zero_point, params.out_lo, params.out_hi) - params.out_off;
  return bitcast<u32>(v) & 0xffu;
}

// Output word cw of pixel `pixel` from its 4 accumulators.
fn write_word(pixel: u32, c4_out: u32, cw: u32, acc: vec4<i32>) {
  let c = cw * 4u;
  y[pixel * c4_out + cw - params.out_base] = out_lane(acc.x, c) | (out_lane(acc.y, c + 1u) << 8u) | (out_lane(acc.z, c + 2u) << 16u) | (out_lane(acc.w, c + 3u) << 24u);
}

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point; i counts from the piece's first item.
fn item(local: u32) {
  let i = params.first + local;
  let c4_out = (params.c_out + 3u) / 4u;
  let c4_in = (params.c_in + 3u) / 4u;
  let ow_blocks = (params.ow + COLS - 1u) / COLS;
  let cw = i % c4_out;
  let rest = i / c4_out;
  let ox0 = (rest % ow_blocks) * COLS;
  let oy = (rest / ow_blocks) % params.oh;
  let b = rest / (ow_blocks * params.oh);
  let y0 = i32(oy) * params.sh - params.pad_top;
  let x0 = i32(ox0) * params.sw - params.pad_left;
  let shift_in = vec4<i32>(params.in_off - params.in_zero_point);
  // Input channel of each output lane (lanes past the last channel clamped: computed, never stored).
  let ci = min(vec4<u32>(cw * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.c_out - 1u)) / params.mult;
  let per_word = 8u / W_LANE_BITS;
  let w_row = cw * params.w_words_per_row;
  var acc0 = vec4<i32>(0);
  var acc1 = vec4<i32>(0);
  var acc2 = vec4<i32>(0);
  var acc3 = vec4<i32>(0);
  for (var ky = 0; ky < params.kh; ky++) {
    let iy = y0 + ky * params.dh;
    if (iy < 0 || iy >= params.h) {
      continue;
    }
    let row = u32((i32(b) * params.h + iy) * params.w);
    for (var kx = 0; kx < params.kw; kx++) {
      let ix = x0 + kx * params.dw;
      let t = u32(ky * params.kw + kx);
      let wv = lanes_of_weights(weights[w_row + t / per_word], t % per_word);
      acc0 += tap(row, ix, c4_in, cw, ci, wv, shift_in);
      if (COLS > 1u) {
        acc1 += tap(row, ix + params.sw, c4_in, cw, ci, wv, shift_in);
      }
      if (COLS > 2u) {
        acc2 += tap(row, ix + 2 * params.sw, c4_in, cw, ci, wv, shift_in);
      }
      if (COLS > 3u) {
        acc3 += tap(row, ix + 3 * params.sw, c4_in, cw, ci, wv, shift_in);
      }
    }
  }
  let pixel0 = (b * params.oh + oy) * params.ow + ox0;
  write_word(pixel0, c4_out, cw, acc0);
  if (COLS > 1u && ox0 + 1u < params.ow) {
    write_word(pixel0 + 1u, c4_out, cw, acc1);
  }
  if (COLS > 2u && ox0 + 2u < params.ow) {
    write_word(pixel0 + 2u, c4_out, cw, acc2);
  }
  if (COLS > 3u && ox0 + 3u < params.ow) {
    write_word(pixel0 + 3u, c4_out, cw, acc3);
  }
}
