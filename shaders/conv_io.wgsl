// The hooks that make the integer matrix product of igemm.wgsl a
// convolution (a dense layer is a 1x1 convolution on [N, 1, 1, K]), and the
// buffers they read. Composed after requant.wgsl (write_out calls `requantize`)
// and before igemm.wgsl.
//
// Layouts (src/quant/lanes.ts and src/gpu/ops/conv.ts write and read them on the host):
// - activations: NHWC, 8-bit lanes, 4 channels to a u32 (lane 0 = the lowest
//   channel, in the low byte), params.in_words words per position. A lane holds
//   a = q - off (off = 128 for affine tensors, 0 for symmetric and pow2 ones),
//   so one signed dot serves every scheme (docs/quantization.md, eq. 9).
// - weights: per output channel c, the reduction in the order (kh, kw, ci) with
//   ci (channels of c's group) padded to a multiple of 4, so that reduction word
//   t of the activations lines up lane for lane with lanes 4t..4t+3 of the
//   weight row; packed at W_LANE_BITS-bit lanes (eq. 20), each row
//   params.w_words_per_row words, padding lanes 0.
// - bias (bias + (off - Z_in) * sum_k w, folded on the host), m0, shift: one
//   i32 per output channel.
// - outputs: like the activations, q_out - off_out, params.out_words words per
//   position; lanes past the last channel hold the real zero, Z_out - off_out.

// Bits per weight lane: 8 (4 to a u32), 4 (8 to a u32) or 2 (16 to a u32).
override W_LANE_BITS: u32 = 8u;

struct Params {
  // Output positions N * out_h * out_w (the rows of the product).
  rows: u32,
  out_h: u32,
  out_w: u32,
  // Output channels M and words per output position, ceil(M / 4).
  out_channels: u32,
  out_words: u32,
  in_h: u32,
  in_w: u32,
  // Words per input position, ceil(C / 4).
  in_words: u32,
  // Input channels per group, and words of them per tap, ceil(cg / 4).
  cg: u32,
  cg_words: u32,
  // Output channels per group.
  mg: u32,
  k_h: u32,
  k_w: u32,
  stride_h: u32,
  stride_w: u32,
  dil_h: u32,
  dil_w: u32,
  pad_top: i32,
  pad_left: i32,
  w_words_per_row: u32,
  // What a position in the padding reads: the real zero Z_in - off in all four lanes.
  pad_word: u32,
  // Output parameters (eq. 17, 18): zero point, clamp range (fused ReLU/ReLU6 included), lane offset.
  zero_out: i32,
  lo_out: i32,
  hi_out: i32,
  off_out: i32,
  // The output positions this dispatch computes, [row_first, rows): a layer
  // whose tensors pass the adapter's binding limit runs in pieces
  // (src/gpu/ops/conv.ts, convPieces), each binding a range of the
  // activations from word in_base of the tensor and of the outputs from word
  // out_base; indices stay the tensor's and have the base subtracted. A layer
  // in one piece: 0, all positions, 0, 0.
  row_first: u32,
  in_base: u32,
  out_base: u32,
  // The output words this dispatch computes, [cw_first, cw_end), and its
  // channels' end, c_end = min(4 * cw_end, out_channels): a layer whose
  // weights pass the binding limit runs in pieces of output channels too,
  // binding its weights from word w_base and its bias, m0 and shift from
  // channel c_base. A layer in one piece: 0, out_words, out_channels, 0, 0.
  cw_first: u32,
  cw_end: u32,
  c_end: u32,
  w_base: u32,
  c_base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> activations: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<i32>;
@group(0) @binding(4) var<storage, read> m0: array<i32>;
@group(0) @binding(5) var<storage, read> shift: array<i32>;
@group(0) @binding(6) var<storage, read_write> outputs: array<u32>;

// The row block a workgroup computes: the grid's y, folded into z where there
// are more row blocks than maxComputeWorkgroupsPerDimension
// (src/gpu/ops/conv.ts, igemmDispatch). Blocks past the last are surplus.
fn row_block(wg: vec3<u32>, groups: vec3<u32>) -> u32 {
  return wg.y + wg.z * groups.y;
}

// The group of output channel c.
fn group_of(c: u32) -> u32 {
  return c / params.mg;
}

// Where output position `row` reads its window: batch index and the input
// coordinates of tap (0, 0), which may lie in the padding.
struct ARow {
  n: u32,
  iy0: i32,
  ix0: i32,
}

fn a_row(row: u32) -> ARow {
  let ox = row % params.out_w;
  let rest = row / params.out_w;
  let oy = rest % params.out_h;
  let n = rest / params.out_h;
  return ARow(n, i32(oy * params.stride_h) - params.pad_top, i32(ox * params.stride_w) - params.pad_left);
}

// Hook a_tap: the index of the activation word holding input channel g*cg
// (the group's first) at tap (ky, kx) of output position r, or -1 where the
// tap lies in the padding. Computed once per tap and row, outside the loop
// over the tap's words. Branchless (non-short-circuit `|`, then `select`):
// invocations of one SIMD group on a CPU adapter disagree about the padding
// at the borders, and a branch costs them more than the wasted index
// arithmetic (measured on SwiftShader: the 3x3 stem 0-25% faster, other shapes unchanged).
fn a_tap(r: ARow, g: u32, ky: u32, kx: u32) -> i32 {
  let iy = r.iy0 + i32(ky * params.dil_h);
  let ix = r.ix0 + i32(kx * params.dil_w);
  let outside = (iy < 0) | (iy >= i32(params.in_h)) | (ix < 0) | (ix >= i32(params.in_w));
  // In the padding the index wraps to garbage; select drops it.
  let index = i32(((r.n * params.in_h + u32(iy)) * params.in_w + u32(ix)) * params.in_words + (g * params.cg) / 4u - params.in_base);
  return select(index, -1, outside);
}

// Hook read_a: word w of a tap (input channels g*cg + 4w .. +3) from a_tap's
// index (im2col on the fly); the padding word for -1. When a group does not
// start on a word boundary, the word is assembled from two; lanes past the
// group's channels meet zero weight lanes and add nothing.
fn read_a(base: i32, g: u32, w: u32) -> u32 {
  if (base < 0) {
    return params.pad_word;
  }
  let i = u32(base) + w;
  let s = ((g * params.cg) % 4u) * 8u;
  let lo = activations[i];
  if (s == 0u) {
    return lo;
  }
  let hi = activations[min(i + 1u, arrayLength(&activations) - 1u)];
  return (lo >> s) | (hi << (32u - s));
}

// Word w of a tap whose group starts on a word boundary (layers without
// groups): one load, the padding word selected without a branch.
fn read_a_aligned(base: i32, w: u32) -> u32 {
  return select(activations[u32(max(base, 0)) + w], params.pad_word, base < 0);
}

// Hook write_out (not `write`: wgsl_reflect takes that name for the access
// mode and fails to parse the function), with out_params: the accumulators of output channels
// 4*cw .. 4*cw+3 at position
// `row` plus the folded bias, requantized (eq. 17) and stored as one word of
// 8-bit lanes q - off_out.
fn write_out(row: u32, cw: u32, acc: vec4<i32>, q: OutParams) {
  let c = cw * 4u;
  // Channel by channel, unrolled: an indexed vector in a loop may live in memory.
  let word = out_lane(acc.x, c, q.bias.x, q.m0.x, q.shift.x) | (out_lane(acc.y, c + 1u, q.bias.y, q.m0.y, q.shift.y) << 8u) |
    (out_lane(acc.z, c + 2u, q.bias.z, q.m0.z, q.shift.z) << 16u) | (out_lane(acc.w, c + 3u, q.bias.w, q.m0.w, q.shift.w) << 24u);
  outputs[row * params.out_words + cw - params.out_base] = word;
}

// The folded bias, multiplier and shift of the 4 channels of output word cw
// (past the last channel: the last one's, never used). Read once per
// invocation: the same for every position it writes.
struct OutParams {
  bias: vec4<i32>,
  m0: vec4<i32>,
  shift: vec4<i32>,
}

fn out_params(cw: u32) -> OutParams {
  let c = min(vec4<u32>(cw * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.c_end - 1u)) - vec4<u32>(params.c_base);
  return OutParams(vec4<i32>(bias[c.x], bias[c.y], bias[c.z], bias[c.w]), vec4<i32>(m0[c.x], m0[c.y], m0[c.z], m0[c.w]), vec4<i32>(shift[c.x], shift[c.y], shift[c.z], shift[c.w]));
}

// The output lane (low byte) of channel c from its accumulator; past the last channel, the real zero.
fn out_lane(acc: i32, c: u32, b: i32, m: i32, s: i32) -> u32 {
  var v = params.zero_out - params.off_out;
  if (c < params.out_channels) {
    v = requantize(acc + b, m, s, params.zero_out, params.lo_out, params.hi_out) - params.off_out;
  }
  return bitcast<u32>(v) & 0xffu;
}
