// Flatten of packed integer lanes: [N, C, H, W] held channels-last (NHWC
// words, lanes8.wgsl) to [N, C*H*W] in ONNX's order, where element
// k = (c * H + y) * W + x. One invocation per output word: its four lanes
// gather from four input pixels. Lanes past the last element are 0.
// Composed after grid.wgsl and lanes8.wgsl.

override WORKGROUP_SIZE: u32 = 64u;

struct FlattenParams {
  words: u32,
  c: u32,
  hw: u32,
}

@group(0) @binding(0) var<uniform> params: FlattenParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= params.words) {
    return;
  }
  let k_total = params.c * params.hw;
  let out_words = (k_total + 3u) / 4u;
  let b = i / out_words;
  let c4 = (params.c + 3u) / 4u;
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    let k = (i % out_words) * 4u + l;
    if (k < k_total) {
      let ch = k / params.hw;
      let word = x[(b * params.hw + k % params.hw) * c4 + ch / 4u];
      v[l] = i32(word << (24u - 8u * (ch % 4u))) >> 24u;
    }
  }
  y[i] = pack_a8(v);
}
