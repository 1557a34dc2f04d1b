// The 4-lane int8 dot product without packed_4x8_integer_dot_product: both
// words unpacked into vec4<i32> (each lane moved to the top of the word and
// shifted down arithmetically, which sign-extends it, as unpackLane in
// src/quant/packing.ts) and multiplied lane by lane. Same value as
// dot4_packed.wgsl for every pair of words.

fn unpack_i8x4(w: u32) -> vec4<i32> {
  let s = bitcast<i32>(w);
  return vec4<i32>((s << 24u) >> 24u, (s << 16u) >> 24u, (s << 8u) >> 24u, s >> 24u);
}

// sum over i of lane_i(a) * lane_i(b), lanes signed 8-bit, lane 0 the low byte.
fn dot4_i8(a: u32, b: u32) -> i32 {
  let p = unpack_i8x4(a) * unpack_i8x4(b);
  return p.x + p.y + p.z + p.w;
}
