// The int8 lanes of the igemm core as packed words, multiplied with the
// hardware's dot4I8Packed (WGSL language feature packed_4x8_integer_dot_product).
// Composed first: the `requires` directive must precede every declaration.
// Only chosen where the adapter's facts say the feature exists
// (src/gpu/ops/conv.ts); dot4_unpacked.wgsl defines the same three names
// over vec4<i32>, so the core (igemm.wgsl) is one source for both paths.
requires packed_4x8_integer_dot_product;

// Four signed 8-bit lanes, lane 0 in the low byte.
alias Lanes = u32;

// Activation lanes from their word (already four int8 lanes).
fn lanes_of_word(w: u32) -> Lanes {
  return w;
}

// The four int8 lanes of plane `plane` of a weight word of W_LANE_BITS-bit
// lanes (conv_io.wgsl): 8-bit words are already lanes; narrower lanes are
// stored plane-major (src/gpu/ops/conv-layout.ts, gpuLanePosition), so one
// shift and one mask put four of them in the four bytes, and the sign bit of
// each is spread over its byte's high bits without carries between bytes
// (0 or 2^(w-1) per byte, times (256 - 2^w) / 2^(w-1), is 0 or the fill).
fn lanes_of_weights(word: u32, plane: u32) -> Lanes {
  if (W_LANE_BITS == 8u) {
    return word;
  }
  let low = (word >> (plane * W_LANE_BITS)) & (0x01010101u * ((1u << W_LANE_BITS) - 1u));
  let sign = low & (0x01010101u << (W_LANE_BITS - 1u));
  return low | (sign * ((256u - (1u << W_LANE_BITS)) >> (W_LANE_BITS - 1u)));
}

// sum over i of lane_i(a) * lane_i(b).
fn dot_lanes(a: Lanes, b: Lanes) -> i32 {
  return dot4I8Packed(a, b);
}
