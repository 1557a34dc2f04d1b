// Float32 convolution on NCHW tensors, any stride, dilation, padding and
// groups; a dense layer is the 1x1 convolution of [N, K, 1, 1] with its
// [M, K] weights. Bias and the fused activation (activation_f32.wgsl) are
// applied before the store. Composed after grid.wgsl and activation_f32.wgsl.
//
// One invocation computes OX_BLOCK neighbouring outputs of one row of one
// output channel, so that each weight is read once for all of them.

override WORKGROUP_SIZE: u32 = 64u;
const OX_BLOCK: u32 = 4u;

struct FConvParams {
  // N * c_out * oh * ceil(ow / OX_BLOCK).
  invocations: u32,
  c_in: u32,
  h: u32,
  w: u32,
  c_out: u32,
  oh: u32,
  ow: u32,
  // Input channels per group and output channels per group.
  cg: u32,
  mg: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  dh: u32,
  dw: u32,
  pad_top: i32,
  pad_left: i32,
  has_bias: u32,
  act_a: f32,
  act_b: f32,
}

@group(0) @binding(0) var<uniform> params: FConvParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(id, groups, WORKGROUP_SIZE);
  if (i >= params.invocations) {
    return;
  }
  let blocks = (params.ow + OX_BLOCK - 1u) / OX_BLOCK;
  let ox0 = (i % blocks) * OX_BLOCK;
  let oy = (i / blocks) % params.oh;
  let co = (i / (blocks * params.oh)) % params.c_out;
  let b = i / (blocks * params.oh * params.c_out);
  let ci0 = (co / params.mg) * params.cg;
  let iy0 = i32(oy * params.sh) - params.pad_top;
  var acc = array<f32, OX_BLOCK>();
  for (var ci = 0u; ci < params.cg; ci++) {
    let plane = (b * params.c_in + ci0 + ci) * params.h;
    for (var ky = 0u; ky < params.kh; ky++) {
      let iy = iy0 + i32(ky * params.dh);
      if (iy < 0 || iy >= i32(params.h)) {
        continue;
      }
      let row = (plane + u32(iy)) * params.w;
      for (var kx = 0u; kx < params.kw; kx++) {
        let wv = weights[((co * params.cg + ci) * params.kh + ky) * params.kw + kx];
        for (var j = 0u; j < OX_BLOCK; j++) {
          let ix = i32((ox0 + j) * params.sw + kx * params.dw) - params.pad_left;
          if (ix >= 0 && ix < i32(params.w)) {
            acc[j] += x[row + u32(ix)] * wv;
          }
        }
      }
    }
  }
  var bv = 0.0;
  if (params.has_bias != 0u) {
    bv = bias[co];
  }
  let out_row = ((b * params.c_out + co) * params.oh + oy) * params.ow;
  for (var j = 0u; j < OX_BLOCK; j++) {
    if (ox0 + j < params.ow) {
      y[out_row + ox0 + j] = activate(acc[j] + bv, params.act_a, params.act_b);
    }
  }
}
