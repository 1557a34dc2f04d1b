// Float32 Add, Sub, Mul and Div of two NCHW tensors with broadcasting (each
// dimension of an input equal to the output's or 1), then the fused
// activation; with OP = 4 the single input `a` through the activation alone
// (an activation layer; `b` is bound but not read). One invocation per output
// element. Composed after grid.wgsl and activation_f32.wgsl.

// 0 add, 1 sub, 2 mul, 3 div, 4 activation only.
override OP: u32 = 0u;

struct FBinaryParams {
  invocations: u32,
  // The output's shape, and each input's, as 4D NCHW (lower ranks padded on the left with 1).
  out_shape: vec4<u32>,
  a_shape: vec4<u32>,
  b_shape: vec4<u32>,
  act_a: f32,
  act_b: f32,
}

@group(0) @binding(0) var<uniform> params: FBinaryParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// The flat index in a tensor of shape s of output position p (size-1 axes broadcast).
fn source_index(p: vec4<u32>, s: vec4<u32>) -> u32 {
  let q = min(p, s - vec4<u32>(1u));
  return ((q.x * s.y + q.y) * s.z + q.z) * s.w + q.w;
}

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let s = params.out_shape;
  let p = vec4<u32>(i / (s.y * s.z * s.w), (i / (s.z * s.w)) % s.y, (i / s.w) % s.z, i % s.w);
  let xa = a[source_index(p, params.a_shape)];
  var v = xa;
  if (OP != 4u) {
    let xb = b[source_index(p, params.b_shape)];
    switch OP {
      case 0u: { v = xa + xb; }
      case 1u: { v = xa - xb; }
      case 2u: { v = xa * xb; }
      default: { v = xa / xb; }
    }
  }
  y[i] = activate(v, params.act_a, params.act_b);
}
