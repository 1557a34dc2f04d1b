// The integer matrix-product core of convolutions and dense layers
// (ARCHITECTURE.md, "One kernel core"). Rows are output positions, columns
// output channels, the reduction runs over the kernel window x the input
// channels of a group, one u32 word (four int8 lanes) at a time:
//
//   acc[row, c] = sum over t < k_words of dot4_i8(read_a(row, group(c), t), read_b(c, t))
//   write_out(row, c / 4, acc[row, 4 * (c / 4) .. + 3])
//
// The core knows nothing of convolutions: the parts composed before it supply
//   dot4_i8(a, b)            dot4_packed.wgsl (dot4I8Packed) or dot4_unpacked.wgsl
//   ARow, a_row(row)         per-row state for the reader (e.g. the window origin)
//   read_a(r, g, t) -> u32   reduction word t of row r for group g (im2col on the fly)
//   read_b(c, t) -> u32      the four int8 weights of channel c facing word t
//   write_out(row, cw, acc)  the epilogue for output word cw (4 channels)
//   group_of(c), params.rows, params.out_words, params.out_channels, params.k_words
//
// Tiling: one invocation computes ROWS output positions x 4 output channels
// (one output word, so no two invocations write the same word); a workgroup
// is WG_X output words x WG_Y row blocks. The weight words are read once per
// invocation and reused for its ROWS positions. Accumulation is i32 and wraps,
// which is exact because the true accumulator fits in int32 (eq. 10).

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// Output positions per invocation, 1..MAX_ROWS.
override ROWS: u32 = 1u;
const MAX_ROWS: u32 = 4u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let cw = gid.x;
  let row0 = gid.y * ROWS;
  if (cw >= params.out_words || row0 >= params.rows) {
    return;
  }
  // Channels past the last are clamped onto it: computed, never written.
  let last = params.out_channels - 1u;
  let c = min(vec4<u32>(cw * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  var rows: array<ARow, MAX_ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    rows[r] = a_row(min(row0 + r, params.rows - 1u));
  }
  var acc: array<vec4<i32>, MAX_ROWS>;
  // The four channels of a word may belong to two or more groups: one pass
  // over the reduction per group, each channel counting its own group's only.
  let g_first = group_of(c.x);
  let g_last = group_of(c.w);
  for (var g = g_first; g <= g_last; g++) {
    let own = vec4<bool>(group_of(c.x) == g, group_of(c.y) == g, group_of(c.z) == g, group_of(c.w) == g);
    for (var t = 0u; t < params.k_words; t++) {
      let b = vec4<u32>(read_b(c.x, t), read_b(c.y, t), read_b(c.z, t), read_b(c.w, t));
      for (var r = 0u; r < ROWS; r++) {
        let a = read_a(rows[r], g, t);
        let d = vec4<i32>(dot4_i8(a, b.x), dot4_i8(a, b.y), dot4_i8(a, b.z), dot4_i8(a, b.w));
        acc[r] += select(vec4<i32>(0), d, own);
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    if (row0 + r < params.rows) {
      write_out(row0 + r, cw, acc[r]);
    }
  }
}
