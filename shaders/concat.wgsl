// Concat along channels of up to 4 packed NHWC tensors (composed after
// requant.wgsl and lanes8.wgsl). One invocation per output word: input k
// holds output channels [ch_begin[k], ch_begin[k] + ch_count[k]); an input's
// channels need not start on a word boundary, so each lane is read on its own.
// Golden: the 'concat' case of runQuantized, each input requantized to the
// output's parameters: out = requantize(q - Z_k, m0[k], shift[k], Z_out, lo, hi).
// Unused inputs (fewer than 4) have ch_count 0 and are bound to input 0.

struct ConcatParams {
  words: u32,
  c: u32,
  ch_begin: vec4<u32>,
  ch_count: vec4<u32>,
  in_off: vec4<i32>,
  in_zero_point: vec4<i32>,
  m0: vec4<i32>,
  shift: vec4<i32>,
  out_zero_point: i32,
  out_lo: i32,
  out_hi: i32,
  out_off: i32,
}

@group(0) @binding(0) var<uniform> params: ConcatParams;
@group(0) @binding(1) var<storage, read> x0: array<u32>;
@group(0) @binding(2) var<storage, read> x1: array<u32>;
@group(0) @binding(3) var<storage, read> x2: array<u32>;
@group(0) @binding(4) var<storage, read> x3: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;

fn read_word(k: u32, index: u32) -> u32 {
  switch k {
    case 0u: { return x0[index]; }
    case 1u: { return x1[index]; }
    case 2u: { return x2[index]; }
    default: { return x3[index]; }
  }
}

fn item_count() -> u32 {
  return params.words;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let c4 = (params.c + 3u) / 4u;
  let pixel = i / c4;
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    let ch = (i % c4) * 4u + l;
    if (ch >= params.c) {
      continue;
    }
    var k = 0u;
    for (var j = 1u; j < 4u; j++) {
      if (params.ch_count[j] > 0u && ch >= params.ch_begin[j]) {
        k = j;
      }
    }
    let local = ch - params.ch_begin[k];
    let word = read_word(k, pixel * ((params.ch_count[k] + 3u) / 4u) + local / 4u);
    let a = i32(word << (24u - 8u * (local % 4u))) >> 24u;
    let q = requantize(a + params.in_off[k] - params.in_zero_point[k], params.m0[k], params.shift[k], params.out_zero_point, params.out_lo, params.out_hi);
    v[l] = q - params.out_off;
  }
  y[i] = pack_a8(v);
}
