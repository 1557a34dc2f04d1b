/**
 * MSE calibration over a magnitude histogram: the clipping threshold T that
 * minimises the expected squared error of a uniform quantizer on [-T, T],
 *
 *   E(T) = sum over |x| > T of (|x| - T)^2          (clipping error)
 *        + (step^2 / 12) * #{|x| <= T},  step = T / n  (rounding noise)
 *
 * the model of Banner et al., "Post-training 4-bit quantization of
 * convolutional networks for rapid deployment" (ACIQ, NeurIPS 2019), with
 * the rounding noise counted over the in-range mass rather than over all of
 * it. `n` is the number of quantization steps between 0 and T (it may be
 * fractional): 2^(b-1) - 1 for a symmetric b-bit grid, 2^b - 1 for an
 * unsigned one, 2^(b-1) for ACIQ's grid of 2^b cells on [-T, T].
 *
 * Values are taken as spread evenly within each bin, which makes E an exact
 * piecewise polynomial of T; it is evaluated at every bin edge through suffix
 * sums (O(1) each), and the best edge is refined by golden-section search
 * over its two neighbouring bins. Returns T in value units (0 for an empty
 * histogram).
 */
export function mseThreshold(counts: Float64Array, width: number, n: number): number {
  let end = counts.length;
  while (end > 0 && counts[end - 1] === 0) end--;
  if (end === 0 || !(width > 0)) return 0;

  // Suffix sums over bins [k, end): count, count * centre, count * E[x^2 in bin].
  const s0 = new Float64Array(end + 1);
  const s1 = new Float64Array(end + 1);
  const s2 = new Float64Array(end + 1);
  const binVar = (width * width) / 12;
  for (let k = end - 1; k >= 0; k--) {
    const h = counts[k]!;
    const c = (k + 0.5) * width;
    s0[k] = s0[k + 1]! + h;
    s1[k] = s1[k + 1]! + h * c;
    s2[k] = s2[k + 1]! + h * (c * c + binVar);
  }
  const total = s0[0]!;
  const noisePerValue = (t: number): number => (t * t) / (12 * n * n);

  const error = (t: number): number => {
    const m = Math.floor(t / width);
    if (m >= end) return noisePerValue(t) * total;
    // Whole bins above the one holding t: sum h * ((x - t)^2) = S2 - 2t S1 + t^2 S0.
    let clip = s2[m + 1]! - 2 * t * s1[m + 1]! + t * t * s0[m + 1]!;
    // The part of bin m above t: uniform on [t, top), mean square distance len^2 / 3.
    const h = counts[m]!;
    const len = (m + 1) * width - t;
    const above = h * (len / width);
    clip += (above * len * len) / 3;
    const inRange = total - s0[m]! + (h - above);
    return Math.max(0, clip) + noisePerValue(t) * inRange;
  };

  let bestEdge = end;
  let bestError = Infinity;
  for (let k = 1; k <= end; k++) {
    const e = error(k * width);
    if (e < bestError) {
      bestError = e;
      bestEdge = k;
    }
  }

  // Golden-section search between the neighbouring edges (E is smooth within a bin).
  let a = (bestEdge - 1) * width;
  let b = Math.min(bestEdge + 1, end) * width;
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = b - g * (b - a);
  let x2 = a + g * (b - a);
  let f1 = error(x1);
  let f2 = error(x2);
  for (let it = 0; it < 60 && b - a > width * 1e-9; it++) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - g * (b - a);
      f1 = error(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + g * (b - a);
      f2 = error(x2);
    }
  }
  const refined = (a + b) / 2;
  return error(refined) <= bestError ? refined : bestEdge * width;
}
