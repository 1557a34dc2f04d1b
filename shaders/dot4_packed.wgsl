// The 4-lane int8 dot product through the hardware instruction (WGSL language
// feature packed_4x8_integer_dot_product). Composed first: the `requires`
// directive must precede every declaration. Only chosen where the adapter's
// facts say the feature exists (src/gpu/ops/conv.ts); dot4_unpacked.wgsl is
// the same function without it.
requires packed_4x8_integer_dot_product;

// sum over i of lane_i(a) * lane_i(b), lanes signed 8-bit, lane 0 the low byte.
fn dot4_i8(a: u32, b: u32) -> i32 {
  return dot4I8Packed(a, b);
}
