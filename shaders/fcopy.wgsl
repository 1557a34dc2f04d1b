// One input of a float32 Concat along any axis: the tensor seen as
// [outer, len, inner] is copied into the output [outer, out_len, inner] at
// offset `begin` on the middle axis. A Concat of k inputs is k dispatches of
// this kernel into one output buffer. Composed after grid.wgsl.

struct FCopyParams {
  invocations: u32,
  len: u32,
  inner: u32,
  out_len: u32,
  begin: u32,
}

@group(0) @binding(0) var<uniform> params: FCopyParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let inner = i % params.inner;
  let mid = (i / params.inner) % params.len;
  let outer = i / (params.inner * params.len);
  y[(outer * params.out_len + params.begin + mid) * params.inner + inner] = x[i];
}
