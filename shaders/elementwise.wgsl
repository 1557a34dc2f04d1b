// Add, Sub and Mul of two packed NHWC tensors with broadcasting (composed
// after requant.wgsl and lanes8.wgsl). One invocation per output word. Each
// input has its own 4D shape [n, c, h, w]; a dimension of 1 broadcasts (its
// coordinate is min(coord, dim - 1) = 0), so a squeeze-excitation scale
// [N, C, 1, 1] times [N, C, H, W] reads one word per channel group.
// OP is an override: 0 add, 1 sub, 2 mul. The arithmetic is the golden
// model's (TFLite's):
//   add/sub: xa = q_a - Z_a, sa = multiply_by_quantized_multiplier(saturating_left_shift(xa, left_shift), m0_a, shift_a),
//            likewise sb; out = requantize(sa +/- sb, m0_out, shift_out, Z_out, lo, hi)
//   mul:     out = requantize((q_a - Z_a) * (q_b - Z_b), m0_out, shift_out, Z_out, lo, hi)

override OP: u32 = 0u;

struct BinaryParams {
  words: u32,
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  a_shape: vec4<u32>,
  b_shape: vec4<u32>,
  a_off: i32,
  a_zero_point: i32,
  b_off: i32,
  b_zero_point: i32,
  left_shift: u32,
  a_m0: i32,
  a_shift: i32,
  b_m0: i32,
  b_shift: i32,
  out_m0: i32,
  out_shift: i32,
  out_zero_point: i32,
  out_lo: i32,
  out_hi: i32,
  out_off: i32,
  // A layer whose tensors pass the adapter's binding limit runs in runs of
  // output words (src/runtime/operators.ts, with pieces.ts flatRuns): this
  // dispatch's items are words first .. first + words - 1; an input of the
  // output's shape and the output are bound from their words a_base, b_base
  // and out_base (a broadcast input whole, base 0). Whole: all 0.
  first: u32,
  a_base: u32,
  b_base: u32,
  out_base: u32,
}

@group(0) @binding(0) var<uniform> params: BinaryParams;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;

// The lane at output coordinates p = (n, c, y, x) of a tensor of shape s, broadcast.
fn read_lane(t: u32, p: vec4<u32>, s: vec4<u32>) -> i32 {
  let q = min(p, s - vec4<u32>(1u));
  let c4 = (s.y + 3u) / 4u;
  let index = ((q.x * s.z + q.z) * s.w + q.w) * c4 + q.y / 4u;
  var word: u32;
  if (t == 0u) {
    word = a[index - params.a_base];
  } else {
    word = b[index - params.b_base];
  }
  return i32(word << (24u - 8u * (q.y % 4u))) >> 24u;
}

fn item_count() -> u32 {
  return params.words;
}

// One item: the body of grid_main.wgsl's entry point; i counts from the run's first word.
fn item(local: u32) {
  let i = params.first + local;
  let c4 = (params.c + 3u) / 4u;
  let pixel = i / c4;
  let px = pixel % params.w;
  let py = (pixel / params.w) % params.h;
  let pn = pixel / (params.w * params.h);
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    let ch = (i % c4) * 4u + l;
    if (ch >= params.c) {
      continue;
    }
    let p = vec4<u32>(pn, ch, py, px);
    let xa = read_lane(0u, p, params.a_shape) + params.a_off - params.a_zero_point;
    let xb = read_lane(1u, p, params.b_shape) + params.b_off - params.b_zero_point;
    var acc: i32;
    if (OP == 2u) {
      acc = xa * xb;
    } else {
      let sa = multiply_by_quantized_multiplier(saturating_left_shift(xa, params.left_shift), params.a_m0, params.a_shift);
      let sb = multiply_by_quantized_multiplier(saturating_left_shift(xb, params.left_shift), params.b_m0, params.b_shift);
      acc = select(sa + sb, sa - sb, OP == 1u);
    }
    v[l] = requantize(acc, params.out_m0, params.out_shift, params.out_zero_point, params.out_lo, params.out_hi) - params.out_off;
  }
  y[i - params.out_base] = pack_a8(v);
}
