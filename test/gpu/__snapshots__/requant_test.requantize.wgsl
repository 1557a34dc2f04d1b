// variant {"kernel":"requant_test","primitive":"requantize","workgroupSize":64}
// override constants {"PRIMITIVE":4,"WORKGROUP_SIZE":64}
// ---- shaders/requant.wgsl ----
// The integer requantization chain of docs/quantization.md (sections 5 and 6),
// bit for bit the same as src/quant/fixed-point.ts: the same functions under
// the same names (snake_case here), citing the same equations. Every integer
// epilogue calls `requantize`; nothing else in the shaders rounds integers.
//
// WGSL has 32-bit integers only. Its i32 `+`, `-`, `*` and `<<` wrap modulo
// 2^32 (defined behaviour, unlike C++), `>>` on i32 is arithmetic, and a shift
// amount must stay below 32. The one 64-bit quantity, the product in high_mul,
// is assembled from 16-bit halves (eq. 13c).

const INT32_MIN: i32 = i32(-2147483648);
const INT32_MAX: i32 = 2147483647;

// Eq. 13b: gemmlowp's SaturatingRoundingDoublingHighMul,
//   high_mul(a, b) = floor((a*b + 2^30) / 2^31)
// on the exact 64-bit product, a tie rounding toward +infinity; the one result
// outside int32 (a = b = INT32_MIN gives 2^31) saturates to INT32_MAX.
//
// Eq. 13c: with a = ah*2^16 + al, ah = a >> 16 in [-2^15, 2^15) and
// al = a & 0xffff in [0, 2^16) (b likewise), hl = ah*bl and lh = al*bh,
//   high_mul = 2*ah*bh + (hl >> 15) + (lh >> 15)
//            + (((hl & 0x7fff) + (lh & 0x7fff) + hi16(al*bl) + 2^14) >> 15).
// hl and lh lie strictly inside the i32 range; al*bl needs all 32 bits of a
// u32. The sum wraps modulo 2^32, which is exact because the true result is
// an int32 (the saturated case aside). Four multiplies, no branch.
fn high_mul(a: i32, b: i32) -> i32 {
  let al = a & 0xffff;
  let ah = a >> 16u;
  let bl = b & 0xffff;
  let bh = b >> 16u;
  let hl = ah * bl;
  let lh = al * bh;
  let ll_hi = i32((u32(al) * u32(bl)) >> 16u);
  let carry = ((hl & 0x7fff) + (lh & 0x7fff) + ll_hi + 0x4000) >> 15u;
  let r = ((ah * bh) << 1u) + (hl >> 15u) + (lh >> 15u) + carry;
  return select(r, INT32_MAX, a == INT32_MIN && b == INT32_MIN);
}

// Eq. 14: gemmlowp's RoundingDivideByPOT, x / 2^exponent to the nearest
// integer, a tie away from zero, for exponent in 0..31 (not checked). The
// floor (arithmetic shift) goes up by one when the dropped bits exceed one
// half, or equal it for x >= 0. exponent = 31 gives mask = 2^31 - 1, which u32
// arithmetic reaches without overflow.
fn rounding_shift(x: i32, exponent: u32) -> i32 {
  let mask = i32((1u << exponent) - 1u);
  let remainder = x & mask;
  let threshold = (mask >> 1u) + select(0, 1, x < 0);
  return (x >> exponent) + select(0, 1, remainder > threshold);
}

// x * 2^n clamped to int32, n in 0..31 (gemmlowp's SaturatingRoundingMultiplyByPOT
// for a positive exponent). The product overflowed exactly when shifting it
// back does not give x.
fn saturating_left_shift(x: i32, n: u32) -> i32 {
  let y = x << n;
  return select(y, select(INT32_MIN, INT32_MAX, x > 0), (y >> n) != x);
}

// Eq. 15: TFLite's MultiplyByQuantizedMultiplier (default, double rounding):
//   shift < 0:  high_mul(saturating_left_shift(acc, -shift), m0)
//   shift >= 0: rounding_shift(high_mul(acc, m0), shift)
// Written without a branch: a shift of 0 is the identity for both
// saturating_left_shift and rounding_shift, so each side gets the shift
// clamped at 0 and every invocation runs the same instructions.
fn multiply_by_quantized_multiplier(acc: i32, m0: i32, shift: i32) -> i32 {
  let left = u32(max(-shift, 0));
  let right = u32(max(shift, 0));
  return rounding_shift(high_mul(saturating_left_shift(acc, left), m0), right);
}

// Eq. 17: the epilogue, clamp(zero_point + multiply_by_quantized_multiplier(...), lo, hi),
// with [lo, hi] the output range, tightened by a fused ReLU or ReLU6 (eq. 18).
// The TypeScript adds in float64; here i32 addition wraps, so the clamp comes
// first, against the range moved by -zero_point: the same value for every
// int32 product, and no step overflows (lo, hi and zero_point are 16-bit
// quantities, or a full 32-bit range with zero_point 0).
fn requantize(acc: i32, m0: i32, shift: i32, zero_point: i32, lo: i32, hi: i32) -> i32 {
  let x = multiply_by_quantized_multiplier(acc, m0, shift);
  return clamp(x, lo - zero_point, hi - zero_point) + zero_point;
}
// ---- shaders/quotient.wgsl ----
// The quantize step's rounding, roundHalfEven(float32(x / s)), exactly as the
// golden model computes it (src/quant/rounding.ts, quantizeValue: a correctly
// rounded float32 quotient, then round half to even), on any adapter.
//
// Why not round(x / s) alone: WGSL lets f32 division be off by 2.5 ULP, and
// adapters use that freedom (a reciprocal, then a product). A quotient that
// lies within a few ULP of a half-integer level boundary can then round to
// the other code, and that code travels through every integer layer after
// it. Such quotients are rare (a few in 10^5 for values of a few hundred),
// so the division is trusted where it is far from a boundary, and the rest is
// recomputed in integers: a long division of the two significands, rounded
// once to float32 and once to an integer, with no float arithmetic whose
// accuracy the adapter chooses.

// Beyond any code of 2 to 8 bits (|code - zero point| <= 255): a quotient at
// least this large is returned as +-QUOTIENT_LIMIT, and the caller's clamp to
// [lo, hi] takes it from there.
const QUOTIENT_LIMIT: f32 = 4096.0;

// Distance from a half-integer, relative to the quotient, beyond which the
// adapter's division cannot change the code: 2^-19 is 16 ULP, against the 2.5
// WGSL allows.
const TRUSTED_MARGIN: f32 = 1.9073486328125e-6;

// roundHalfEven(float32(x / s)) for a finite x and a positive normal s,
// saturated at +-QUOTIENT_LIMIT.
fn round_quotient(x: f32, s: f32) -> f32 {
  return round_quotient_near(x / s, x, s);
}

// The same from t, x / s as the adapter divides (within 2.5 ULP of it).
fn round_quotient_near(t: f32, x: f32, s: f32) -> f32 {
  let a = abs(t);
  if (a >= QUOTIENT_LIMIT) {
    return select(-QUOTIENT_LIMIT, QUOTIENT_LIMIT, t > 0.0);
  }
  if (abs(a - floor(a) - 0.5) > a * TRUSTED_MARGIN) {
    return round(t);
  }
  return exact_round_quotient(x, s);
}

// An f32's magnitude as significand * 2^exponent, the significand normalized
// to [2^23, 2^24) (subnormals included); 0 has significand 0.
struct Unpacked {
  significand: u32,
  exponent: i32,
}

fn unpack_f32(v: f32) -> Unpacked {
  let bits = bitcast<u32>(v);
  let biased = i32((bits >> 23u) & 0xffu);
  let fraction = bits & 0x7fffffu;
  if (biased != 0) {
    return Unpacked(fraction | 0x800000u, biased - 150);
  }
  if (fraction == 0u) {
    return Unpacked(0u, 0);
  }
  let shift = countLeadingZeros(fraction) - 8u;
  return Unpacked(fraction << shift, -149 - i32(shift));
}

// roundHalfEven(float32(x / s)) in integer arithmetic, for |x / s| below
// QUOTIENT_LIMIT (round_quotient sends no other).
fn exact_round_quotient(x: f32, s: f32) -> f32 {
  let ux = unpack_f32(x);
  let us = unpack_f32(s);
  if (ux.significand == 0u) {
    return 0.0;
  }
  // n = floor(mx * 2^26 / ms), 26 or 27 bits since mx / ms lies in (1/2, 2);
  // the remainder says whether anything is left below it.
  var r = ux.significand;
  var n = 0u;
  if (r >= us.significand) {
    r -= us.significand;
    n = 1u;
  }
  for (var i = 0u; i < 26u; i++) {
    r = r << 1u;
    n = n << 1u;
    if (r >= us.significand) {
      r -= us.significand;
      n = n | 1u;
    }
  }
  let sticky = r != 0u;
  // To float32: keep 24 significant bits, the dropped ones rounded half to even.
  let dropped_bits = 8u - countLeadingZeros(n);
  var m = n >> dropped_bits;
  let dropped = n & ((1u << dropped_bits) - 1u);
  let half_dropped = 1u << (dropped_bits - 1u);
  if (dropped > half_dropped || (dropped == half_dropped && (sticky || (m & 1u) == 1u))) {
    m += 1u;
  }
  // The float32 quotient is m * 2^e (below 2^12, so e < 0); a quotient below
  // 2^-126 would round more coarsely as a subnormal, but any of them is below
  // one half and gives 0 all the same.
  let e = ux.exponent - us.exponent - 26 + i32(dropped_bits);
  let k = u32(-e);
  if (e >= 0 || k > 25u) {
    return 0.0;
  }
  // To an integer: m * 2^-k rounded half to even.
  var g = m >> k;
  let rest = m & ((1u << k) - 1u);
  let half = 1u << (k - 1u);
  if (rest > half || (rest == half && (g & 1u) == 1u)) {
    g += 1u;
  }
  return select(f32(g), -f32(g), x < 0.0);
}
// ---- shaders/test/requant_test.wgsl ----
// Test kernel for requant.wgsl and quotient.wgsl (composed after them): applies one primitive to
// every case, so the tests can compare the WGSL with the TypeScript golden
// model element by element. PRIMITIVE picks the primitive (an override, so
// each one is its own pipeline variant with no branch on data); cases past
// params.count are left alone, and a PRIMITIVE without a case writes nothing,
// so a poisoned output shows either mistake.

override PRIMITIVE: u32;
override WORKGROUP_SIZE: u32 = 64u;

struct Params {
  count: u32,
}

// The arguments of one call, in the order of the primitive's parameters;
// a primitive with fewer parameters ignores the rest.
struct Case {
  a: i32,
  b: i32,
  c: i32,
  d: i32,
  e: i32,
  f: i32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cases: array<Case>;
@group(0) @binding(2) var<storage, read_write> results: array<i32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= params.count) {
    return;
  }
  let k = cases[i];
  switch PRIMITIVE {
    case 0u: { results[i] = high_mul(k.a, k.b); }
    case 1u: { results[i] = rounding_shift(k.a, u32(k.b)); }
    case 2u: { results[i] = saturating_left_shift(k.a, u32(k.b)); }
    case 3u: { results[i] = multiply_by_quantized_multiplier(k.a, k.b, k.c); }
    case 4u: { results[i] = requantize(k.a, k.b, k.c, k.d, k.e, k.f); }
    // quotient.wgsl's, on the bits of two f32 (x, s).
    case 5u: { results[i] = i32(round_quotient(bitcast<f32>(k.a), bitcast<f32>(k.b))); }
    case 6u: { results[i] = i32(exact_round_quotient(bitcast<f32>(k.a), bitcast<f32>(k.b))); }
    // As an adapter whose division is k.c float32 steps off would compute it.
    case 7u: {
      let x = bitcast<f32>(k.a);
      let s = bitcast<f32>(k.b);
      results[i] = i32(round_quotient_near(bitcast<f32>(bitcast<i32>(x / s) + k.c), x, s));
    }
    default: {}
  }
}
