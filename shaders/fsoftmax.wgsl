// Float32 Softmax over the middle axis of a tensor seen as [outer, len, inner]
// (ONNX's axis, or with coerce2d all axes from it on as one: inner = 1).
// One invocation per (outer, inner) line: the max is subtracted before exp,
// as the CPU kernel does. Composed after grid.wgsl.

override WORKGROUP_SIZE: u32 = 64u;

struct FSoftmaxParams {
  invocations: u32,
  len: u32,
  inner: u32,
}

@group(0) @binding(0) var<uniform> params: FSoftmaxParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= params.invocations) {
    return;
  }
  let base = (i / params.inner) * params.len * params.inner + i % params.inner;
  var m = -0x1.fffffep+127f;
  for (var k = 0u; k < params.len; k++) {
    m = max(m, x[base + k * params.inner]);
  }
  var sum = 0.0;
  for (var k = 0u; k < params.len; k++) {
    sum += exp(x[base + k * params.inner] - m);
  }
  for (var k = 0u; k < params.len; k++) {
    y[base + k * params.inner] = exp(x[base + k * params.inner] - m) / sum;
  }
}
