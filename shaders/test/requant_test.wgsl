// Test kernel for requant.wgsl and quotient.wgsl (composed after them): applies one primitive to
// every case, so the tests can compare the WGSL with the TypeScript golden
// model element by element. PRIMITIVE picks the primitive (an override, so
// each one is its own pipeline variant with no branch on data); cases past
// params.count are left alone, and a PRIMITIVE without a case writes nothing,
// so a poisoned output shows either mistake.

override PRIMITIVE: u32;
override WORKGROUP_SIZE: u32 = 64u;

struct Params {
  count: u32,
}

// The arguments of one call, in the order of the primitive's parameters;
// a primitive with fewer parameters ignores the rest.
struct Case {
  a: i32,
  b: i32,
  c: i32,
  d: i32,
  e: i32,
  f: i32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cases: array<Case>;
@group(0) @binding(2) var<storage, read_write> results: array<i32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= params.count) {
    return;
  }
  let k = cases[i];
  switch PRIMITIVE {
    case 0u: { results[i] = high_mul(k.a, k.b); }
    case 1u: { results[i] = rounding_shift(k.a, u32(k.b)); }
    case 2u: { results[i] = saturating_left_shift(k.a, u32(k.b)); }
    case 3u: { results[i] = multiply_by_quantized_multiplier(k.a, k.b, k.c); }
    case 4u: { results[i] = requantize(k.a, k.b, k.c, k.d, k.e, k.f); }
    // quotient.wgsl's, on the bits of two f32 (x, s).
    case 5u: { results[i] = i32(round_quotient(bitcast<f32>(k.a), bitcast<f32>(k.b))); }
    case 6u: { results[i] = i32(exact_round_quotient(bitcast<f32>(k.a), bitcast<f32>(k.b))); }
    // As an adapter whose division is k.c float32 steps off would compute it.
    case 7u: {
      let x = bitcast<f32>(k.a);
      let s = bitcast<f32>(k.b);
      results[i] = i32(round_quotient_near(bitcast<f32>(bitcast<i32>(x / s) + k.c), x, s));
    }
    default: {}
  }
}
