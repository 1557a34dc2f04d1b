// Data movement of packed integer lanes (lanes8.wgsl): every output element
// copies one input element, found through its logical NCHW coordinates.
// Flatten, reshape, squeeze and transpose are all this one gather:
//   in_flat = dot(out_coords, map), in_coords = in_flat spelled in in_shape,
// with `map` the output's own strides (a reshape keeps the element order) or
// the input's strides permuted (a transpose). A pad is the same gather
// through a window: coordinates shift by `begin` (a pad's begins, negative
// where it crops) before the map, and those outside `extent` (the input's
// shape) read the lane `fill`; without a window `begin` is 0 and `extent`
// the output's shape, so every coordinate is inside. Shapes of lower rank are padded
// with 1 on the right, as the packed layout sees them (src/quant/lanes.ts,
// actShape). One invocation per output word; lanes past the last channel
// are 0. Composed after grid.wgsl and lanes8.wgsl.

struct PermuteParams {
  words: u32,
  out_shape: vec4<u32>,
  in_shape: vec4<u32>,
  map: vec4<u32>,
  begin: vec4<i32>,
  extent: vec4<u32>,
  fill: i32,
}

@group(0) @binding(0) var<uniform> params: PermuteParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

// Lane `c % 4` of the input word of coordinates (n, c, h, w), sign-extended.
fn input_lane(n: u32, c: u32, h: u32, w: u32) -> i32 {
  let s = params.in_shape;
  let word = x[((n * s.z + h) * s.w + w) * ((s.y + 3u) / 4u) + c / 4u];
  return i32(word << (24u - 8u * (c % 4u))) >> 24u;
}

fn lane(cw: u32, l: u32, pixel: u32) -> i32 {
  let o = params.out_shape;
  let c = cw * 4u + l;
  if (c >= o.y) {
    return 0;
  }
  let coords = vec4<i32>(vec4<u32>(pixel / (o.z * o.w), c, (pixel / o.w) % o.z, pixel % o.w)) - params.begin;
  if (any(coords < vec4<i32>(0)) || any(vec4<u32>(coords) >= params.extent)) {
    return params.fill;
  }
  let flat = dot(vec4<u32>(coords), params.map);
  let s = params.in_shape;
  return input_lane(flat / (s.y * s.z * s.w), (flat / (s.z * s.w)) % s.y, (flat / s.w) % s.z, flat % s.w);
}

fn item_count() -> u32 {
  return params.words;
}

// One item: the body of grid_main.wgsl's entry point.
fn item(i: u32) {
  let c4 = (params.out_shape.y + 3u) / 4u;
  let cw = i % c4;
  let pixel = i / c4;
  y[i] = pack_a8(vec4<i32>(lane(cw, 0u, pixel), lane(cw, 1u, pixel), lane(cw, 2u, pixel), lane(cw, 3u, pixel)));
}
