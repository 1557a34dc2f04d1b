/**
 * The q-quantile (0 <= q <= 1) of the values in a histogram whose bin k
 * covers [origin + k*width, origin + (k+1)*width): the point where the
 * cumulative count reaches q * total, taking values as spread evenly within a
 * bin (so the answer is off by less than one bin width from the sample
 * quantile). Returns NaN for an empty histogram.
 */
export function histogramQuantile(counts: Float64Array, origin: number, width: number, q: number): number {
  let total = 0;
  for (let k = 0; k < counts.length; k++) total += counts[k]!;
  if (total === 0) return NaN;
  const target = q * total;
  let below = 0;
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k]!;
    if (c > 0 && below + c >= target) {
      const frac = Math.min(1, Math.max(0, (target - below) / c));
      return origin + (k + frac) * width;
    }
    below += c;
  }
  return origin + counts.length * width; // q = 1 against rounding: the top edge
}

/** Counts of the signed histogram over [-range, range): `negative` reversed, then `positive`. */
export function signedCounts(positive: Float64Array, negative: Float64Array): Float64Array {
  const n = positive.length;
  const out = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    out[n - 1 - k] = negative[k]!;
    out[n + k] = positive[k]!;
  }
  return out;
}
