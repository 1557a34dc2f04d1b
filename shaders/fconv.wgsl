// Float32 convolution on NCHW tensors, any stride, dilation, padding and
// groups; a dense layer is the 1x1 convolution of [N, K, 1, 1] with its
// [M, K] weights. Bias and the fused activation (activation_f32.wgsl) are
// applied before the store. Composed after grid.wgsl and activation_f32.wgsl.
//
// Tile: one invocation computes 4 columns x CH_BLOCK output channels in named
// vec4 registers (acc0..acc3, one per channel; an indexed local array would
// live in memory on some adapters). The columns are 4 neighbouring outputs of
// one row, or with BATCH_COLUMNS (1x1 outputs: dense layers) the same output
// of 4 images of the batch. Each input vec4 is loaded once for the CH_BLOCK
// channels and each weight once for the 4 columns. CH_BLOCK is 4 where the 4
// channels of a block share their group (no groups, or mg a multiple of 4),
// else 1 (depthwise and other grouped convolutions).

override BATCH_COLUMNS: bool = false;
override CH_BLOCK: u32 = 4u;
// A 1x1 window at stride 1 without padding, spatial columns: the 4 columns
// read 4 neighbouring inputs of one row, with no tap loops and no padding
// tests (4-5x faster on SwiftShader, where they cost more than the 16 FMAs
// of an input channel). Columns past the row's end read the next elements
// (clamped to the buffer): computed, never stored.
override POINTWISE: bool = false;

struct FConvParams {
  invocations: u32,
  n: u32,
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

// The output of channel `co` for the 4 columns at out[0] + out[k] * stride (k < count), activated.
fn store(co: u32, acc: vec4<f32>, first: u32, stride: u32, count: u32) {
  if (co >= params.c_out) {
    return;
  }
  var bv = 0.0;
  if (params.has_bias != 0u) {
    bv = bias[co];
  }
  let v = acc + vec4<f32>(bv);
  y[first] = activate(v.x, params.act_a, params.act_b);
  if (count > 1u) {
    y[first + stride] = activate(v.y, params.act_a, params.act_b);
  }
  if (count > 2u) {
    y[first + 2u * stride] = activate(v.z, params.act_a, params.act_b);
  }
  if (count > 3u) {
    y[first + 3u * stride] = activate(v.w, params.act_a, params.act_b);
  }
}

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let cols = select(params.ow, params.n, BATCH_COLUMNS);
  let col_blocks = (cols + 3u) / 4u;
  let ch_blocks = (params.c_out + CH_BLOCK - 1u) / CH_BLOCK;
  let col0 = (i % col_blocks) * 4u;
  let co0 = ((i / col_blocks) % ch_blocks) * CH_BLOCK;
  var rest = i / (col_blocks * ch_blocks);
  var ox = 0u;
  if (BATCH_COLUMNS) {
    ox = rest % params.ow;
    rest = rest / params.ow;
  }
  let oy = rest % params.oh;
  // The image of column 0 (spatial columns: every column's).
  var b = rest / params.oh;
  if (BATCH_COLUMNS) {
    b = col0;
  }
  let count = min(4u, cols - col0);
  // Channels past the last are clamped onto it: computed, never stored.
  let last = params.c_out - 1u;
  let co = min(vec4<u32>(co0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  let ci0 = (co.x / params.mg) * params.cg;
  let plane = params.h * params.w;
  // Column 0's output column; the columns step by the stride within a row,
  // or (batch columns) by a whole image in memory.
  let ox_base = select(col0, ox, BATCH_COLUMNS);
  let col_step = select(params.sw, params.c_in * plane, BATCH_COLUMNS);
  let wmax = i32(params.w) - 1;
  let iy0 = i32(oy * params.sh) - params.pad_top;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let top = arrayLength(&x) - 1u;
  for (var ci = 0u; ci < params.cg; ci++) {
    let in_plane = (b * params.c_in + ci0 + ci) * plane;
    if (POINTWISE) {
      let at = in_plane + u32(iy0) * params.w + ox_base;
      let v = vec4<f32>(x[at], x[min(at + 1u, top)], x[min(at + 2u, top)], x[min(at + 3u, top)]);
      let w_at = co * params.cg + ci;
      acc0 += v * weights[w_at.x];
      if (CH_BLOCK > 1u) {
        acc1 += v * weights[w_at.y];
        acc2 += v * weights[w_at.z];
        acc3 += v * weights[w_at.w];
      }
      continue;
    }
    for (var ky = 0u; ky < params.kh; ky++) {
      let iy = iy0 + i32(ky * params.dh);
      if (iy < 0 || iy >= i32(params.h)) {
        continue;
      }
      let row = in_plane + u32(iy) * params.w;
      let w_at = ((co * params.cg + ci) * params.kh + ky) * params.kw;
      for (var kx = 0u; kx < params.kw; kx++) {
        let ix = i32(ox_base * params.sw + kx * params.dw) - params.pad_left;
        var v: vec4<f32>;
        if (BATCH_COLUMNS) {
          if (ix < 0 || ix > wmax) {
            continue;
          }
          // Images past the batch read a clamped element; their sums are never stored.
          let at = row + u32(ix);
          let s = col_step;
          v = vec4<f32>(x[at], x[min(at + s, top)], x[min(at + 2u * s, top)], x[min(at + 3u * s, top)]);
        } else {
          // Columns in the padding read a clamped element and count zero.
          let ixs = vec4<i32>(ix) + vec4<i32>(0, 1, 2, 3) * i32(col_step);
          let inside = (ixs >= vec4<i32>(0)) & (ixs <= vec4<i32>(wmax));
          let at = vec4<u32>(vec4<i32>(i32(row)) + clamp(ixs, vec4<i32>(0), vec4<i32>(wmax)));
          v = select(vec4<f32>(0.0), vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]), inside);
        }
        acc0 += v * weights[w_at.x + kx];
        if (CH_BLOCK > 1u) {
          acc1 += v * weights[w_at.y + kx];
          acc2 += v * weights[w_at.z + kx];
          acc3 += v * weights[w_at.w + kx];
        }
      }
    }
  }
  let out_plane = params.oh * params.ow;
  // Output of column 0 for channel 0 of the block; columns step by 1 (spatial) or an image.
  let first = ((b * params.c_out + co0) * params.oh + oy) * params.ow + select(col0, ox, BATCH_COLUMNS);
  let out_step = select(1u, params.c_out * out_plane, BATCH_COLUMNS);
  store(co0, acc0, first, out_step, count);
  if (CH_BLOCK > 1u) {
    store(co0 + 1u, acc1, first + out_plane, out_step, count);
    store(co0 + 2u, acc2, first + 2u * out_plane, out_step, count);
    store(co0 + 3u, acc3, first + 3u * out_plane, out_step, count);
  }
}
