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
