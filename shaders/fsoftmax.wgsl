// Float32 Softmax over the middle axis of a tensor seen as [outer, len, inner]
// (ONNX's axis, or with coerce2d all axes from it on as one: inner = 1).
// One invocation per (outer, inner) line: the max is subtracted before exp,
// as the CPU kernel does. Composed after grid.wgsl.

struct FSoftmaxParams {
  invocations: u32,
  len: u32,
  inner: u32,
}

@group(0) @binding(0) var<uniform> params: FSoftmaxParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
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
