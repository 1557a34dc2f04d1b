// The network's boundary (docs/quantization.md, eq. 1, 4, 5): quantize a float
// NCHW tensor into packed NHWC lanes, and dequantize packed lanes back to float
// NCHW. One invocation per packed word (4 channels of one pixel). Composed
// after lanes8.wgsl and quotient.wgsl.
//
// Quantize reads its input through strides (so an NHWC tensor followed by a
// transpose to NCHW is read in place) and writes the lanes through a
// convolution window (im2col): output
// position (b, oy, ox), lane k = (ky * win_w + kx) * c + ci holds input
// channel ci at (oy * stride_h - pad_top + ky * dil_h, ox * ...); a tap in the
// padding holds the real zero. The plain boundary is the 1x1 window (k = ci,
// the output position the input's). A first convolution with few input
// channels then reads its whole reduction as ceil(K / 4) full words of one
// position (src/gpu/ops/im2col.ts) instead of one mostly padded word per tap.
//
// quantize:   q = clamp(roundHalfEven(x / scale) + zero_point, lo, hi), lane = q - off.
//   The rounded quotient is the golden model's roundHalfEven(Math.fround(r / scale))
//   to the bit on any adapter (quotient.wgsl: WGSL's division may be 2.5 ULP
//   off); the clamp is applied to the rounded float before the conversion to
//   i32, so no step overflows.
// dequantize: r = f32(q - zero_point) * scale, written to NCHW.

struct QuantizeParams {
  // The float input as an NCHW view: its sizes, and the element strides of each axis in
  // memory (an NCHW tensor's own, or those of an NHWC tensor seen through a transpose).
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  stride_n: u32,
  stride_c: u32,
  stride_y: u32,
  stride_x: u32,
  // The output positions per image (out_h x out_w) and the lanes of each, win_h * win_w * c.
  out_h: u32,
  out_w: u32,
  lanes: u32,
  words: u32,
  win_h: u32,
  win_w: u32,
  stride_h: u32,
  stride_w: u32,
  dil_h: u32,
  dil_w: u32,
  pad_top: i32,
  pad_left: i32,
  scale: f32,
  zero_point: i32,
  off: i32,
  lo: i32,
  hi: i32,
  // A boundary whose tensors pass the adapter's binding limit runs in pieces
  // (src/gpu/ops/quantize.ts, quantizePieces): this dispatch writes output
  // words first .. first + words - 1, and real_in and lanes_out are bound from
  // their elements in_base and out_base. Whole: 0, 0, 0.
  first: u32,
  in_base: u32,
  out_base: u32,
}

@group(0) @binding(0) var<uniform> qp: QuantizeParams;
@group(0) @binding(1) var<storage, read> real_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> lanes_out: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn quantize_main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let local = flat_index(id, groups, WORKGROUP_SIZE);
  if (local >= qp.words) {
    return;
  }
  let i = qp.first + local;
  let words_per_position = (qp.lanes + 3u) / 4u;
  let position = i / words_per_position;
  let ox = position % qp.out_w;
  let oy = (position / qp.out_w) % qp.out_h;
  let b = position / (qp.out_w * qp.out_h);
  let iy0 = i32(oy * qp.stride_h) - qp.pad_top;
  let ix0 = i32(ox * qp.stride_w) - qp.pad_left;
  // Lanes past the last stay 0 (the layout's padding lanes); a tap in the convolution's
  // padding holds the real zero, the value the golden model's padding reads.
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    let k = (i % words_per_position) * 4u + l;
    let ch = k % qp.c;
    let tap = k / qp.c;
    let iy = iy0 + i32((tap / qp.win_w) * qp.dil_h);
    let ix = ix0 + i32((tap % qp.win_w) * qp.dil_w);
    if (k < qp.lanes) {
      v[l] = qp.zero_point - qp.off;
      if (iy >= 0 && iy < i32(qp.h) && ix >= 0 && ix < i32(qp.w)) {
        let x = real_in[b * qp.stride_n + ch * qp.stride_c + u32(iy) * qp.stride_y + u32(ix) * qp.stride_x - qp.in_base];
        let t = clamp(round_quotient(x, qp.scale), f32(qp.lo - qp.zero_point), f32(qp.hi - qp.zero_point));
        v[l] = i32(t) + qp.zero_point - qp.off;
      }
    }
  }
  lanes_out[i - qp.out_base] = pack_a8(v);
}

struct DequantizeParams {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  words: u32,
  scale: f32,
  zero_point: i32,
  off: i32,
}

@group(0) @binding(0) var<uniform> dp: DequantizeParams;
@group(0) @binding(1) var<storage, read> lanes_in: array<u32>;
@group(0) @binding(2) var<storage, read_write> real_out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn dequantize_main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= dp.words) {
    return;
  }
  let c4 = (dp.c + 3u) / 4u;
  let hw = dp.h * dp.w;
  let pixel = i / c4;
  let b = pixel / hw;
  let s = pixel % hw;
  let a = unpack_a8(lanes_in[i]);
  for (var l = 0u; l < 4u; l++) {
    let ch = (i % c4) * 4u + l;
    if (ch < dp.c) {
      real_out[(b * dp.c + ch) * hw + s] = f32(a[l] + dp.off - dp.zero_point) * dp.scale;
    }
  }
}
