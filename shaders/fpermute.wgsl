// Float32 transpose of NCHW-ordered tensors (rank <= 4, padded with 1 on the
// right): output element i, at coordinates o in out_shape, copies input
// element dot(o, map), `map` being the input's strides permuted. One
// invocation per output element. Composed after grid.wgsl.

struct FPermuteParams {
  invocations: u32,
  out_shape: vec4<u32>,
  map: vec4<u32>,
}

@group(0) @binding(0) var<uniform> params: FPermuteParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let s = params.out_shape;
  let o = vec4<u32>(i / (s.y * s.z * s.w), (i / (s.z * s.w)) % s.y, (i / s.w) % s.z, i % s.w);
  y[i] = x[dot(o, params.map)];
}
