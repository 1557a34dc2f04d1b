// Micro-benchmarks of the adapter's peaks, the yardsticks of bench/
// (src/gpu/peaks.ts). MODE picks the loop body; each
// invocation runs `iterations` rounds of CHAINS independent chains, and stores
// one value so that no work is dead code. Which chain count is fastest
// depends on the adapter (more chains hide latency, too many spill registers:
// on SwiftShader i32 peaks at 2, f32 at 8), so peaks.ts takes the best of 2, 4 and 8.
//   0 f32 FMA on vec4<f32>:            8 flops per chain and round
//   1 i32 multiply-add on vec4<i32>:   8 ops (4 MACs)
//   2 dot_lanes of the composed dot part on words: 8 ops (4 MACs); with
//     dot4_packed.wgsl that is dot4I8Packed, with dot4_unpacked.wgsl the
//     unpacking and the vec4<i32> dot, unamortized
//   3 bandwidth: each invocation copies `iterations` vec4<u32> (16 bytes read and written each)
// Composed after one of the dot parts, whose lanes_of_word and dot_lanes it calls.

override WG: u32 = 64u;
override MODE: u32 = 0u;
// Independent chains per invocation: 2, 4 or 8 (unused ones stay constant).
override CHAINS: u32 = 8u;

struct PeakParams {
  iterations: u32,
  // Words of `src` and `dst` (bandwidth mode).
  words: u32,
  seed: u32,
}

@group(0) @binding(0) var<uniform> params: PeakParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;


@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * WG;
  let s = params.seed + i;
  if (MODE == 0u) {
    // Named chains, not an array: an indexed local array may live in memory.
    let a = vec4<f32>(f32(s & 7u)) * 1e-3 + 1.0;
    let b = vec4<f32>(1e-7);
    var c0 = a; var c1 = a + 1.0; var c2 = a + 2.0; var c3 = a + 3.0;
    var c4 = a + 4.0; var c5 = a + 5.0; var c6 = a + 6.0; var c7 = a + 7.0;
    for (var k = 0u; k < params.iterations; k++) {
      c0 = fma(c0, a, b); c1 = fma(c1, a, b);
      if (CHAINS > 2u) { c2 = fma(c2, a, b); c3 = fma(c3, a, b); }
      if (CHAINS > 4u) { c4 = fma(c4, a, b); c5 = fma(c5, a, b); c6 = fma(c6, a, b); c7 = fma(c7, a, b); }
    }
    dst[i % params.words] = bitcast<vec4<u32>>(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
  } else if (MODE == 1u) {
    let a = vec4<i32>(i32(s & 7u) + 3);
    let b = vec4<i32>(i32(s >> 3u) & 5);
    var c0 = a; var c1 = a + 1; var c2 = a + 2; var c3 = a + 3;
    var c4 = a + 4; var c5 = a + 5; var c6 = a + 6; var c7 = a + 7;
    for (var k = 0u; k < params.iterations; k++) {
      c0 = c0 * a + b; c1 = c1 * a + b;
      if (CHAINS > 2u) { c2 = c2 * a + b; c3 = c3 * a + b; }
      if (CHAINS > 4u) { c4 = c4 * a + b; c5 = c5 * a + b; c6 = c6 * a + b; c7 = c7 * a + b; }
    }
    dst[i % params.words] = bitcast<vec4<u32>>(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
  } else if (MODE == 2u) {
    // Each round's b word depends on the chain's sum, so no round can be hoisted.
    let a = lanes_of_word(s * 0x01010101u);
    var c0 = 0; var c1 = 1; var c2 = 2; var c3 = 3; var c4 = 4; var c5 = 5; var c6 = 6; var c7 = 7;
    for (var k = 0u; k < params.iterations; k++) {
      c0 += dot_lanes(a, lanes_of_word(bitcast<u32>(c0))); c1 += dot_lanes(a, lanes_of_word(bitcast<u32>(c1)));
      if (CHAINS > 2u) {
        c2 += dot_lanes(a, lanes_of_word(bitcast<u32>(c2))); c3 += dot_lanes(a, lanes_of_word(bitcast<u32>(c3)));
      }
      if (CHAINS > 4u) {
        c4 += dot_lanes(a, lanes_of_word(bitcast<u32>(c4))); c5 += dot_lanes(a, lanes_of_word(bitcast<u32>(c5)));
        c6 += dot_lanes(a, lanes_of_word(bitcast<u32>(c6))); c7 += dot_lanes(a, lanes_of_word(bitcast<u32>(c7)));
      }
    }
    dst[i % params.words] = vec4<u32>(bitcast<u32>(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7));
  } else {
    let n = arrayLength(&src);
    for (var k = 0u; k < params.iterations; k++) {
      let j = (i * params.iterations + k) % n;
      dst[j] = src[j];
    }
  }
}
