// variant {"dot4":false,"grouped":true,"kernel":"igemm","rows":2,"tiled":false,"wLaneBits":4,"workgroupX":4,"workgroupY":16}
// override constants {"GROUPED":1,"ROWS":2,"WG_X":4,"WG_Y":16,"W_LANE_BITS":4}
// ---- shaders/dot4_unpacked.wgsl ----
// The int8 lanes of the igemm core unpacked into vec4<i32>, multiplied with
// the integer dot() builtin: for adapters without (or with a slow)
// dot4I8Packed. Same names and values as dot4_packed.wgsl. Each word is
// unpacked once where it is loaded, then reused for every product it enters
// (ROWS positions for a weight word, 4 channels for an activation word).

alias Lanes = vec4<i32>;

// Each byte moved to the top of the word and shifted down arithmetically,
// which sign-extends it (unpackLane in src/quant/lanes.ts).
fn lanes_of_word(w: u32) -> Lanes {
  let s = bitcast<i32>(w);
  return vec4<i32>((s << 24u) >> 24u, (s << 16u) >> 24u, (s << 8u) >> 24u, s >> 24u);
}

// sum over i of lane_i(a) * lane_i(b).
fn dot_lanes(a: Lanes, b: Lanes) -> i32 {
  return dot(a, b);
}
// ---- shaders/weight_lanes.wgsl ----
// Weight words as int8 lanes, for both dot parts (dot4_packed.wgsl,
// dot4_unpacked.wgsl) and every kernel that reads packed weights, and the
// four-channel dot product of the igemm cores. Composed after a dot part,
// with W_LANE_BITS declared by the kernel's io part.
//
// The four int8 lanes of plane `plane` of a weight word of W_LANE_BITS-bit
// lanes: 8-bit words are already lanes; narrower lanes are stored
// plane-major (src/quant/lanes.ts, gpuLanePosition; docs eq. 22), so one shift and
// one mask put four of them in the four bytes, and the sign bit of each is
// spread over its byte's high bits without carries between bytes (0 or
// 2^(w-1) per byte, times (256 - 2^w) / 2^(w-1), is 0 or the fill).
fn weight_word8(word: u32, plane: u32) -> u32 {
  if (W_LANE_BITS == 8u) {
    return word;
  }
  let low = (word >> (plane * W_LANE_BITS)) & (0x01010101u * ((1u << W_LANE_BITS) - 1u));
  let sign = low & (0x01010101u << (W_LANE_BITS - 1u));
  return low | (sign * ((256u - (1u << W_LANE_BITS)) >> (W_LANE_BITS - 1u)));
}

// The same as the dot part's lanes.
fn lanes_of_weights(word: u32, plane: u32) -> Lanes {
  return lanes_of_word(weight_word8(word, plane));
}

// The four channels' dot products with one activation word, each counted
// only where `own` (its channel belongs to the group being summed).
fn dots(a: Lanes, b0: Lanes, b1: Lanes, b2: Lanes, b3: Lanes, own: vec4<bool>) -> vec4<i32> {
  return select(vec4<i32>(0), vec4<i32>(dot_lanes(a, b0), dot_lanes(a, b1), dot_lanes(a, b2), dot_lanes(a, b3)), own);
}
// ---- shaders/requant.wgsl ----
// The integer requantization chain of docs/quantization.md (sections 5 and 6),
// bit for bit the same as src/quant/fixed-point.ts: the same functions under
// the same names (snake_case here), citing the same equations. Every integer
// epilogue calls `requantize`; nothing else in the shaders rounds integers.
//
// WGSL has 32-bit integers only. Its i32 `+`, `-`, `*` and `<<` wrap modulo
// 2^32 (defined behaviour, unlike C++), `>>` on i32 is arithmetic, and a shift
// amount must stay below 32. The one 64-bit quantity, the product in high_mul,
// is assembled from 16-bit halves (eq. 13c).

const INT32_MIN: i32 = i32(-2147483648);
const INT32_MAX: i32 = 2147483647;

// Eq. 13b: gemmlowp's SaturatingRoundingDoublingHighMul,
//   high_mul(a, b) = floor((a*b + 2^30) / 2^31)
// on the exact 64-bit product, a tie rounding toward +infinity; the one result
// outside int32 (a = b = INT32_MIN gives 2^31) saturates to INT32_MAX.
//
// Eq. 13c: with a = ah*2^16 + al, ah = a >> 16 in [-2^15, 2^15) and
// al = a & 0xffff in [0, 2^16) (b likewise), hl = ah*bl and lh = al*bh,
//   high_mul = 2*ah*bh + (hl >> 15) + (lh >> 15)
//            + (((hl & 0x7fff) + (lh & 0x7fff) + hi16(al*bl) + 2^14) >> 15).
// hl and lh lie strictly inside the i32 range; al*bl needs all 32 bits of a
// u32. The sum wraps modulo 2^32, which is exact because the true result is
// an int32 (the saturated case aside). Four multiplies, no branch.
fn high_mul(a: i32, b: i32) -> i32 {
  let al = a & 0xffff;
  let ah = a >> 16u;
  let bl = b & 0xffff;
  let bh = b >> 16u;
  let hl = ah * bl;
  let lh = al * bh;
  let ll_hi = i32((u32(al) * u32(bl)) >> 16u);
  let carry = ((hl & 0x7fff) + (lh & 0x7fff) + ll_hi + 0x4000) >> 15u;
  let r = ((ah * bh) << 1u) + (hl >> 15u) + (lh >> 15u) + carry;
  return select(r, INT32_MAX, a == INT32_MIN && b == INT32_MIN);
}

// Eq. 14: gemmlowp's RoundingDivideByPOT, x / 2^exponent to the nearest
// integer, a tie away from zero, for exponent in 0..31 (not checked). The
// floor (arithmetic shift) goes up by one when the dropped bits exceed one
// half, or equal it for x >= 0. exponent = 31 gives mask = 2^31 - 1, which u32
// arithmetic reaches without overflow.
fn rounding_shift(x: i32, exponent: u32) -> i32 {
  let mask = i32((1u << exponent) - 1u);
  let remainder = x & mask;
  let threshold = (mask >> 1u) + select(0, 1, x < 0);
  return (x >> exponent) + select(0, 1, remainder > threshold);
}

// x * 2^n clamped to int32, n in 0..31 (gemmlowp's SaturatingRoundingMultiplyByPOT
// for a positive exponent). The product overflowed exactly when shifting it
// back does not give x.
fn saturating_left_shift(x: i32, n: u32) -> i32 {
  let y = x << n;
  return select(y, select(INT32_MIN, INT32_MAX, x > 0), (y >> n) != x);
}

// Eq. 15: TFLite's MultiplyByQuantizedMultiplier (default, double rounding):
//   shift < 0:  high_mul(saturating_left_shift(acc, -shift), m0)
//   shift >= 0: rounding_shift(high_mul(acc, m0), shift)
// Written without a branch: a shift of 0 is the identity for both
// saturating_left_shift and rounding_shift, so each side gets the shift
// clamped at 0 and every invocation runs the same instructions.
fn multiply_by_quantized_multiplier(acc: i32, m0: i32, shift: i32) -> i32 {
  let left = u32(max(-shift, 0));
  let right = u32(max(shift, 0));
  return rounding_shift(high_mul(saturating_left_shift(acc, left), m0), right);
}

// Eq. 17: the epilogue, clamp(zero_point + multiply_by_quantized_multiplier(...), lo, hi),
// with [lo, hi] the output range, tightened by a fused ReLU or ReLU6 (eq. 18).
// The TypeScript adds in float64; here i32 addition wraps, so the clamp comes
// first, against the range moved by -zero_point: the same value for every
// int32 product, and no step overflows (lo, hi and zero_point are 16-bit
// quantities, or a full 32-bit range with zero_point 0).
fn requantize(acc: i32, m0: i32, shift: i32, zero_point: i32, lo: i32, hi: i32) -> i32 {
  let x = multiply_by_quantized_multiplier(acc, m0, shift);
  return clamp(x, lo - zero_point, hi - zero_point) + zero_point;
}
// ---- shaders/conv_io.wgsl ----
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
// ---- shaders/igemm.wgsl ----
// The integer matrix-product core of convolutions and dense layers
// (ARCHITECTURE.md, "One kernel core"). Rows are output positions, columns
// output channels; the reduction runs over the kernel taps and, within a tap,
// over the words (four int8 lanes) of a group's input channels:
//
//   acc[row, c] = sum over taps, words w of dot_lanes(a(row, tap, w), b(c, tap, w))
//   write_out(row, c / 4, acc[row, 4 * (c / 4) .. + 3])
//
// The core knows nothing of convolutions: the parts composed before it supply
//   Lanes, lanes_of_word, dot_lanes
//                            dot4_packed.wgsl (dot4I8Packed) or dot4_unpacked.wgsl
//   weight_word8, lanes_of_weights, dots
//                            weight_lanes.wgsl
//   ARow, a_row(row)         per-row state (where its window starts)
//   a_tap(r, g, ky, kx)      the index of the tap's first activation word, or -1 in the padding
//   read_a(base, g, w)       word w of a tap from that index (the padding word for -1)
//   weights, params.w_words_per_row, W_LANE_BITS
//   out_params(cw), write_out(row, cw, acc, q)
//                            the epilogue for output word cw (4 channels), its
//                            per-channel parameters read once per invocation
//   group_of(c), params.rows, params.out_words, params.out_channels, params.k_h,
//   params.k_w, params.cg_words
//
// Tiling: one invocation computes ROWS output positions x 4 output channels
// (one output word, so no two invocations write the same word) in named
// registers; a workgroup is WG_X output words x WG_Y row blocks (the grid's
// row blocks in y, folded into z past the adapter's limit). The
// reduction loops are nested (taps, then words) so that no index is divided
// in the inner loop, each activation word is unpacked once for 4 channels and
// each weight word once for ROWS positions. Accumulation is i32 and wraps,
// which is exact because the true accumulator fits in int32 (eq. 10).

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// Output positions per invocation, 1..4. Each position has its own named
// registers (r0..r3, base0..3, acc0..3) and an `if (ROWS > k)` that the
// pipeline's constant folds away: an indexed local array would live in
// memory on some adapters (SwiftShader: about 15x slower).
override ROWS: u32 = 1u;
// Whether the layer has groups (channels of one output word may belong to
// different groups, a group may start inside a word). Without groups the
// pipeline folds the group bookkeeping away: one pass, no masks, and
// activation words read straight from the tap's index.
override GROUPED: bool = true;

// Word w of a tap: read_a in general, one branchless load without groups.
fn a_word(base: i32, g: u32, w: u32) -> Lanes {
  if (GROUPED) {
    return lanes_of_word(read_a(base, g, w));
  }
  return lanes_of_word(read_a_aligned(base, w));
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let cw = params.cw_first + wg.x * WG_X + lid.x;
  // Row blocks past maxComputeWorkgroupsPerDimension fold into z (conv_io.wgsl, row_block).
  let row0 = params.row_first + (row_block(wg, groups) * WG_Y + lid.y) * ROWS;
  if (cw >= params.cw_end || row0 >= params.rows) {
    return;
  }
  // Channels past the last are clamped onto it: computed, never written.
  let last = params.c_end - 1u;
  let c = min(vec4<u32>(cw * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  let w_row = c * params.w_words_per_row - vec4<u32>(params.w_base);
  // Reduction words per weight word: 1, 2 or 4.
  let per_word = 8u / W_LANE_BITS;
  // Positions past the last are clamped onto it, like channels.
  let r0 = a_row(row0);
  let r1 = a_row(min(row0 + 1u, params.rows - 1u));
  let r2 = a_row(min(row0 + 2u, params.rows - 1u));
  let r3 = a_row(min(row0 + 3u, params.rows - 1u));
  var acc0 = vec4<i32>(0);
  var acc1 = vec4<i32>(0);
  var acc2 = vec4<i32>(0);
  var acc3 = vec4<i32>(0);
  // The four channels of a word may belong to two or more groups: one pass
  // over the reduction per group, each channel counting its own group's only.
  let g_first = group_of(c.x);
  let g_last = group_of(c.w);
  for (var g = g_first; g <= g_last; g++) {
    let own = vec4<bool>(group_of(c.x) == g, group_of(c.y) == g, group_of(c.z) == g, group_of(c.w) == g) | vec4<bool>(!GROUPED);
    var t = 0u;
    for (var ky = 0u; ky < params.k_h; ky++) {
      for (var kx = 0u; kx < params.k_w; kx++) {
        let base0 = a_tap(r0, g, ky, kx);
        let base1 = a_tap(r1, g, ky, kx);
        let base2 = a_tap(r2, g, ky, kx);
        let base3 = a_tap(r3, g, ky, kx);
        for (var w = 0u; w < params.cg_words; w++) {
          let k = t / per_word;
          let plane = t % per_word;
          let b0 = lanes_of_weights(weights[w_row.x + k], plane);
          let b1 = lanes_of_weights(weights[w_row.y + k], plane);
          let b2 = lanes_of_weights(weights[w_row.z + k], plane);
          let b3 = lanes_of_weights(weights[w_row.w + k], plane);
          acc0 += dots(a_word(base0, g, w), b0, b1, b2, b3, own);
          if (ROWS > 1u) {
            acc1 += dots(a_word(base1, g, w), b0, b1, b2, b3, own);
          }
          if (ROWS > 2u) {
            acc2 += dots(a_word(base2, g, w), b0, b1, b2, b3, own);
          }
          if (ROWS > 3u) {
            acc3 += dots(a_word(base3, g, w), b0, b1, b2, b3, own);
          }
          t++;
        }
      }
    }
  }
  let q = out_params(cw);
  write_out(row0, cw, acc0, q);
  if (ROWS > 1u && row0 + 1u < params.rows) {
    write_out(row0 + 1u, cw, acc1, q);
  }
  if (ROWS > 2u && row0 + 2u < params.rows) {
    write_out(row0 + 2u, cw, acc2, q);
  }
  if (ROWS > 3u && row0 + 3u < params.rows) {
    write_out(row0 + 3u, cw, acc3, q);
  }
}
