// The int8 lanes of the igemm core as packed words, multiplied with the
// hardware's dot4I8Packed (WGSL language feature packed_4x8_integer_dot_product).
// Composed first: the `requires` directive must precede every declaration.
// Only chosen where the adapter's facts say the feature exists
// (src/gpu/ops/conv.ts); dot4_unpacked.wgsl defines the same names
// over vec4<i32>, so the core (igemm.wgsl) is one source for both paths.
requires packed_4x8_integer_dot_product;

// Four signed 8-bit lanes, lane 0 in the low byte.
alias Lanes = u32;

// Activation lanes from their word (already four int8 lanes).
fn lanes_of_word(w: u32) -> Lanes {
  return w;
}

// sum over i of lane_i(a) * lane_i(b).
fn dot_lanes(a: Lanes, b: Lanes) -> i32 {
  return dot4I8Packed(a, b);
}
