// The network's boundary (docs/quantization.md, eq. 1, 4, 5): quantize a float
// NCHW tensor into packed NHWC lanes, and dequantize packed lanes back to float
// NCHW. One invocation per packed word (4 channels of one pixel). Composed
// after lanes8.wgsl.
//
// quantize:   q = clamp(roundHalfEven(x / scale) + zero_point, lo, hi), lane = q - off.
//   WGSL's round() is round half to even. The quotient is one f32 division, as
//   the golden model's Math.fround(r / scale); the clamp is applied to the
//   rounded float before the conversion to i32, so no step overflows.
// dequantize: r = f32(q - zero_point) * scale, written to NCHW.

override WORKGROUP_SIZE: u32 = 64u;

struct QuantizeParams {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  words: u32,
  scale: f32,
  zero_point: i32,
  off: i32,
  lo: i32,
  hi: i32,
}

@group(0) @binding(0) var<uniform> qp: QuantizeParams;
@group(0) @binding(1) var<storage, read> real_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> lanes_out: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn quantize_main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= qp.words) {
    return;
  }
  let c4 = (qp.c + 3u) / 4u;
  let hw = qp.h * qp.w;
  let pixel = i / c4;
  let b = pixel / hw;
  let s = pixel % hw;
  var v = vec4<i32>(0);
  for (var l = 0u; l < 4u; l++) {
    let ch = (i % c4) * 4u + l;
    if (ch < qp.c) {
      let x = real_in[(b * qp.c + ch) * hw + s];
      let t = clamp(round(x / qp.scale), f32(qp.lo - qp.zero_point), f32(qp.hi - qp.zero_point));
      v[l] = i32(t) + qp.zero_point - qp.off;
    }
  }
  lanes_out[i] = pack_a8(v);
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
