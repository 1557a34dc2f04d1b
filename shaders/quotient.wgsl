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
