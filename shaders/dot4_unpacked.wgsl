// The int8 lanes of the igemm core unpacked into vec4<i32>, multiplied with
// the integer dot() builtin: for adapters without (or with a slow)
// dot4I8Packed. Same names and values as dot4_packed.wgsl. Each word is
// unpacked once where it is loaded, then reused for every product it enters
// (ROWS positions for a weight word, 4 channels for an activation word).

alias Lanes = vec4<i32>;

// Each byte moved to the top of the word and shifted down arithmetically,
// which sign-extends it (unpackLane in src/quant/lanes.ts).
fn lanes_of_word(w: u32) -> Lanes {
  let s = bitcast<i32>(w);
  return vec4<i32>((s << 24u) >> 24u, (s << 16u) >> 24u, (s << 8u) >> 24u, s >> 24u);
}

// sum over i of lane_i(a) * lane_i(b).
fn dot_lanes(a: Lanes, b: Lanes) -> i32 {
  return dot(a, b);
}
