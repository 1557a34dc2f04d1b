// Max and average pools, local and global, on packed NHWC lanes (composed
// after lanes8.wgsl). One invocation per output word: 4 channels of one output
// pixel. A global pool is the window of the whole plane (kernel = H x W, no
// pads, stride 1). MODE is an override: 0 max, 1 average.
//
// Max (golden: the float kernel on integers): the max of the lanes in the
//   window, padding ignored; a = q - off is monotone in q, so the max is taken
//   on lanes directly and written back unchanged.
// Average (golden: intAvgPool): out = Z + roundingDivide(sum(q - Z), count),
//   rounding half away from zero, with ONNX's count: the real elements, or with
//   count_include_pad the window clipped to the padded input. The pools keep
//   the input's parameters, so the result is in range and needs no clamp.

override MODE: u32 = 0u;

struct PoolParams {
  words: u32,
  c: u32,
  h: i32,
  w: i32,
  oh: u32,
  ow: u32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  pad_top: i32,
  pad_left: i32,
  pad_bottom: i32,
  pad_right: i32,
  count_include_pad: u32,
  off: i32,
  zero_point: i32,
  // A layer whose tensors pass the adapter's binding limit runs in pieces
  // (src/gpu/ops/pool.ts, poolPieces): this dispatch's items are output words
  // first .. first + words - 1, and x and y are bound from their words in_base
  // and out_base. Whole: 0, 0, 0.
  first: u32,
  in_base: u32,
  out_base: u32,
}

@group(0) @binding(0) var<uniform> params: PoolParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

// sign(s) * floor((2|s| + d) / 2d): a division rounding half away from zero (d > 0).
fn rounding_divide(s: i32, d: i32) -> i32 {
  let q = (2 * abs(s) + d) / (2 * d);
  return select(q, -q, s < 0);
}

fn item_count() -> u32 {
  return params.words;
}

// One item: the body of grid_main.wgsl's entry point; i counts from the piece's first word.
fn item(local: u32) {
  let i = params.first + local;
  let c4 = (params.c + 3u) / 4u;
  let cw = i % c4;
  let pixel = i / c4;
  let ox = i32(pixel % params.ow);
  let oy = i32((pixel / params.ow) % params.oh);
  let b = i32(pixel / (params.ow * params.oh));
  let y0 = oy * params.sh - params.pad_top;
  let x0 = ox * params.sw - params.pad_left;
  var best = vec4<i32>(-128);
  var sum = vec4<i32>(0);
  var count = 0;
  for (var ky = 0; ky < params.kh; ky++) {
    let iy = y0 + ky * params.dh;
    if (iy < 0 || iy >= params.h) {
      continue;
    }
    for (var kx = 0; kx < params.kw; kx++) {
      let ix = x0 + kx * params.dw;
      if (ix < 0 || ix >= params.w) {
        continue;
      }
      let a = unpack_a8(x[u32((b * params.h + iy) * params.w + ix) * c4 + cw - params.in_base]);
      best = max(best, a);
      sum += a;
      count += 1;
    }
  }
  let real = count;
  var v: vec4<i32>;
  if (MODE == 0u) {
    v = best;
  } else {
    if (params.count_include_pad != 0u) {
      let ch = min(y0 + params.kh, params.h + params.pad_bottom) - max(y0, -params.pad_top);
      let cw_ = min(x0 + params.kw, params.w + params.pad_right) - max(x0, -params.pad_left);
      count = ch * cw_;
    }
    // q - Z = a + off - Z for each real element summed.
    let centered = sum + vec4<i32>(real * (params.off - params.zero_point));
    for (var l = 0u; l < 4u; l++) {
      v[l] = params.zero_point - params.off + rounding_divide(centered[l], count);
    }
  }
  // Padding lanes (channels past c) are written as 0, whatever the window
  // made of them (the average's zero-point shift would move them).
  for (var l = 0u; l < 4u; l++) {
    if (cw * 4u + l >= params.c) {
      v[l] = 0;
    }
  }
  y[i - params.out_base] = pack_a8(v);
}

