// Weight words as int8 lanes, for both dot parts (dot4_packed.wgsl,
// dot4_unpacked.wgsl) and every kernel that reads packed weights, and the
// four-channel dot product of the igemm cores. Composed after a dot part,
// with W_LANE_BITS declared by the kernel's io part.
//
// The four int8 lanes of plane `plane` of a weight word of W_LANE_BITS-bit
// lanes: 8-bit words are already lanes; narrower lanes are stored
// plane-major (src/quant/lanes.ts, gpuLanePosition; docs eq. 22), so one shift and
// one mask put four of them in the four bytes, and the sign bit of each is
// spread over its byte's high bits without carries between bytes (0 or
// 2^(w-1) per byte, times (256 - 2^w) / 2^(w-1), is 0 or the fill).
fn weight_word8(word: u32, plane: u32) -> u32 {
  if (W_LANE_BITS == 8u) {
    return word;
  }
  let low = (word >> (plane * W_LANE_BITS)) & (0x01010101u * ((1u << W_LANE_BITS) - 1u));
  let sign = low & (0x01010101u << (W_LANE_BITS - 1u));
  return low | (sign * ((256u - (1u << W_LANE_BITS)) >> (W_LANE_BITS - 1u)));
}

// The same as the dot part's lanes.
fn lanes_of_weights(word: u32, plane: u32) -> Lanes {
  return lanes_of_word(weight_word8(word, plane));
}

// The four channels' dot products with one activation word, each counted
// only where `own` (its channel belongs to the group being summed).
fn dots(a: Lanes, b0: Lanes, b1: Lanes, b2: Lanes, b3: Lanes, own: vec4<bool>) -> vec4<i32> {
  return select(vec4<i32>(0), vec4<i32>(dot_lanes(a, b0), dot_lanes(a, b1), dot_lanes(a, b2), dot_lanes(a, b3)), own);
}
