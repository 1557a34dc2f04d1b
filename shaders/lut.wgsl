// Elementwise functions of one input as a table (docs/quantization.md, eq. 21):
// out q = table[q_in - lo_in]. One invocation per packed word; lanes past the
// channel count are written as 0 (padding), never looked up. Composed after
// lanes8.wgsl.

override WORKGROUP_SIZE: u32 = 64u;

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

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= params.words) {
    return;
  }
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
