// Float32 max and average pools, local and global (a global pool is the
// window of the whole plane), on NCHW tensors. One invocation per output
// element. MODE: 0 max, 1 average. The average divides by ONNX's count: the
// real elements, or with count_include_pad the window clipped to the padded
// input (the same count as pool.wgsl). Composed after grid.wgsl.

override MODE: u32 = 0u;

struct FPoolParams {
  invocations: u32,
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
}

@group(0) @binding(0) var<uniform> params: FPoolParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn item_count() -> u32 {
  return params.invocations;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let ox = i32(i % params.ow);
  let oy = i32((i / params.ow) % params.oh);
  let plane = i / (params.ow * params.oh);
  let y0 = oy * params.sh - params.pad_top;
  let x0 = ox * params.sw - params.pad_left;
  var best = -0x1.fffffep+127f;
  var sum = 0.0;
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
      let v = x[(plane * u32(params.h) + u32(iy)) * u32(params.w) + u32(ix)];
      best = max(best, v);
      sum += v;
      count += 1;
    }
  }
  if (MODE == 0u) {
    y[i] = best;
    return;
  }
  if (params.count_include_pad != 0u) {
    let ch = min(y0 + params.kh, params.h + params.pad_bottom) - max(y0, -params.pad_top);
    let cw = min(x0 + params.kw, params.w + params.pad_right) - max(x0, -params.pad_left);
    count = ch * cw;
  }
  y[i] = sum / f32(count);
}
