// The integer matrix-product core with its operands staged in workgroup
// memory: the same product, hooks and epilogue as igemm.wgsl (read its
// header), for layers without groups. A workgroup of WG x WG invocations
// computes WG * ROWS output positions x 4 * WG output channels; for each tap
// and each run of KC = WG reduction words, its invocations first copy the
// activation words of the tile's positions and the weight words (decoded to
// int8 lanes) of its channels into workgroup memory, one entry each per row
// or channel they stage, then each computes its ROWS x 4 outputs from there.
// Each global word is read once per workgroup instead of once per invocation
// that needs it; adapters with fast workgroup memory gain, others (SwiftShader)
// lose to the barriers, and the per-adapter choice (src/gpu/kernel-choice.ts)
// decides.
//
// Invocation (x, y) stages activation rows y + j*WG (j < ROWS) and weight
// channels y + j*WG (j < 4), word x of the run; it computes output word
// wg.x * WG + x (channels 4x .. 4x+3 of the tile) for rows y + r*WG (r < ROWS).

override WG: u32 = 8u;
// Output positions per invocation, 1..4 (named registers, as in igemm.wgsl).
override ROWS: u32 = 4u;
// Largest tiles: WG <= 16, ROWS <= 4.
const MAX_A: u32 = 1024u; // (WG * ROWS) positions x WG words
const MAX_B: u32 = 1024u; // (4 * WG) channels x WG words

var<workgroup> a_tile: array<u32, MAX_A>;
var<workgroup> b_tile: array<u32, MAX_B>;

// Stages activation row j of this invocation (word k0 + x of the tap at `base`).
fn stage_a(j: u32, y: u32, x: u32, base: i32, k0: u32) {
  var v = 0u;
  if (k0 + x < params.cg_words) {
    v = read_a(base, 0u, k0 + x);
  }
  a_tile[(y + j * WG) * WG + x] = v;
}

// Stages weight channel j of this invocation: reduction word t of its row, as int8 lanes.
fn stage_b(j: u32, y: u32, x: u32, w_row: u32, t: u32, k0: u32) {
  let per_word = 8u / W_LANE_BITS;
  var v = 0u;
  if (k0 + x < params.cg_words) {
    v = weight_word8(weights[w_row + t / per_word], t % per_word);
  }
  b_tile[(y + j * WG) * WG + x] = v;
}

@compute @workgroup_size(WG, WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let x = lid.x;
  let y = lid.y;
  // Row blocks past maxComputeWorkgroupsPerDimension fold into z (conv_io.wgsl, row_block);
  // a surplus workgroup's rows are all clamped: it computes, never writes.
  let row_base = params.row_first + row_block(wg, groups) * WG * ROWS;
  let ch_base = (params.cw_first + wg.x * WG) * 4u;
  let last_row = params.rows - 1u;
  let last_ch = params.c_end - 1u;
  // The rows and channels this invocation stages (clamped: computed, never written).
  let s0 = a_row(min(row_base + y, last_row));
  let s1 = a_row(min(row_base + y + WG, last_row));
  let s2 = a_row(min(row_base + y + 2u * WG, last_row));
  let s3 = a_row(min(row_base + y + 3u * WG, last_row));
  let w0 = min(ch_base + y, last_ch) * params.w_words_per_row - params.w_base;
  let w1 = min(ch_base + y + WG, last_ch) * params.w_words_per_row - params.w_base;
  let w2 = min(ch_base + y + 2u * WG, last_ch) * params.w_words_per_row - params.w_base;
  let w3 = min(ch_base + y + 3u * WG, last_ch) * params.w_words_per_row - params.w_base;
  let all = vec4<bool>(true);
  var acc0 = vec4<i32>(0);
  var acc1 = vec4<i32>(0);
  var acc2 = vec4<i32>(0);
  var acc3 = vec4<i32>(0);
  for (var ky = 0u; ky < params.k_h; ky++) {
    for (var kx = 0u; kx < params.k_w; kx++) {
      let base0 = a_tap(s0, 0u, ky, kx);
      let base1 = a_tap(s1, 0u, ky, kx);
      let base2 = a_tap(s2, 0u, ky, kx);
      let base3 = a_tap(s3, 0u, ky, kx);
      let tap_t = (ky * params.k_w + kx) * params.cg_words;
      for (var k0 = 0u; k0 < params.cg_words; k0 += WG) {
        workgroupBarrier();
        stage_a(0u, y, x, base0, k0);
        if (ROWS > 1u) {
          stage_a(1u, y, x, base1, k0);
        }
        if (ROWS > 2u) {
          stage_a(2u, y, x, base2, k0);
        }
        if (ROWS > 3u) {
          stage_a(3u, y, x, base3, k0);
        }
        let t = tap_t + k0 + x;
        stage_b(0u, y, x, w0, t, k0);
        stage_b(1u, y, x, w1, t, k0);
        stage_b(2u, y, x, w2, t, k0);
        stage_b(3u, y, x, w3, t, k0);
        workgroupBarrier();
        for (var k = 0u; k < WG; k++) {
          let b0 = lanes_of_word(b_tile[(4u * x) * WG + k]);
          let b1 = lanes_of_word(b_tile[(4u * x + 1u) * WG + k]);
          let b2 = lanes_of_word(b_tile[(4u * x + 2u) * WG + k]);
          let b3 = lanes_of_word(b_tile[(4u * x + 3u) * WG + k]);
          acc0 += dots(lanes_of_word(a_tile[y * WG + k]), b0, b1, b2, b3, all);
          if (ROWS > 1u) {
            acc1 += dots(lanes_of_word(a_tile[(y + WG) * WG + k]), b0, b1, b2, b3, all);
          }
          if (ROWS > 2u) {
            acc2 += dots(lanes_of_word(a_tile[(y + 2u * WG) * WG + k]), b0, b1, b2, b3, all);
          }
          if (ROWS > 3u) {
            acc3 += dots(lanes_of_word(a_tile[(y + 3u * WG) * WG + k]), b0, b1, b2, b3, all);
          }
        }
      }
    }
  }
  let cw = params.cw_first + wg.x * WG + x;
  if (cw >= params.cw_end) {
    return;
  }
  let q = out_params(cw);
  if (row_base + y <= last_row) {
    write_out(row_base + y, cw, acc0, q);
  }
  if (ROWS > 1u && row_base + y + WG <= last_row) {
    write_out(row_base + y + WG, cw, acc1, q);
  }
  if (ROWS > 2u && row_base + y + 2u * WG <= last_row) {
    write_out(row_base + y + 2u * WG, cw, acc2, q);
  }
  if (ROWS > 3u && row_base + y + 3u * WG <= last_row) {
    write_out(row_base + y + 3u * WG, cw, acc3, q);
  }
}
