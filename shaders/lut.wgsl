// Elementwise functions of one input as a table (docs/quantization.md, eq. 21):
// out q = table[q_in - lo_in]. One invocation per packed word; lanes past the
// channel count are written as 0 (padding), never looked up. Composed after
// lanes8.wgsl.

struct LutParams {
  words: u32,
  c: u32,
  in_off: i32,
  in_lo: i32,
  out_off: i32,
}

@group(0) @binding(0) var<uniform> params: LutParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> table: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;

fn item_count() -> u32 {
  return params.words;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let c4 = (params.c + 3u) / 4u;
  let a = unpack_a8(x[i]);
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    if ((i % c4) * 4u + l < params.c) {
      v[l] = table[a[l] + params.in_off - params.in_lo] - params.out_off;
    }
  }
  y[i] = pack_a8(v);
}
