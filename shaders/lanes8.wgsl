// Activations on the GPU (ARCHITECTURE.md, Packing): NHWC, four 8-bit lanes
// per u32, channel 4*j + i of a pixel in lane i of its word j (lane 0 at the
// least significant end), channels padded with zero lanes to a multiple of 4.
// A lane holds a = q - off, a signed byte: off = 128 for affine (unsigned)
// tensors, 0 for symmetric and pow2 ones.

// The four lanes of a word, sign-extended (docs/quantization.md, unpackLane).
fn unpack_a8(w: u32) -> vec4<i32> {
  return vec4<i32>(i32(w << 24u) >> 24u, i32(w << 16u) >> 24u, i32(w << 8u) >> 24u, i32(w) >> 24u);
}

// The low byte of each lane value into its lane of a word.
fn pack_a8(v: vec4<i32>) -> u32 {
  let b = vec4<u32>(v) & vec4<u32>(0xffu);
  return b.x | (b.y << 8u) | (b.z << 16u) | (b.w << 24u);
}
