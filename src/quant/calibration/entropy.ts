/** Floor of Q, as a fraction of its mass, where P has mass and Q has none. */
const SMOOTHING = 1e-4;

/**
 * KL-divergence ("entropy") calibration over a magnitude histogram, after
 * TensorRT's calibrator (S. Migacz, "8-bit Inference with TensorRT", GTC
 * 2017): for each candidate threshold i (in bins),
 *   P = counts[0..i) with the mass beyond the threshold (the outliers) added
 *       to the last bin: what clipping at i keeps of the data;
 *   Q = counts[0..i) merged into the quantization cells and spread back over
 *       the bins of each cell that are non-zero in P: what the quantized
 *       tensor can express;
 * and the threshold with the smallest KL(P || Q) wins.
 *
 * Where this differs from the talk, and why:
 * - Cells follow round-to-nearest on the grid {0, s, 2s, ..., levels*s},
 *   s = T / levels: cell j is [(j - 1/2)s, (j + 1/2)s) clipped to [0, T], so
 *   the cells at 0 and at T are half as wide as the others. The talk merges
 *   i bins into 128 equal groups, which models truncation rather than
 *   rounding. Cell edges fall inside bins; a bin split by an edge gives each
 *   side its share of its count (values taken as even within a bin).
 * - Zero bins: Q is spread only over bins where P is non-zero (as in the
 *   talk), so Q is zero wherever P is and those bins add nothing. The one
 *   case left is P non-zero where Q is zero: outliers folded into a last
 *   bin whose whole cell holds no data. Strictly the divergence is then
 *   infinite, which would forbid clipping a lone far outlier at all (every
 *   threshold between the bulk and the outlier ends in an empty cell) and
 *   leave the grid stretched over the outlier. So Q is smoothed there: such
 *   bins get SMOOTHING (1e-4) of Q's mass, Q is renormalised, and clipping
 *   much mass into an empty cell still costs P * ln(P / 1e-4).
 * - Cost: with prefix sums over the histogram each candidate costs
 *   O(levels) rather than O(i), so 2048 bins at 8 bits take a few
 *   milliseconds.
 *
 * `levels` is the number of non-zero levels on [0, T]: 2^(b-1) - 1 for a
 * symmetric b-bit grid (127 at 8 bits), 2^b - 1 for an unsigned one.
 * Returns the threshold in bins (threshold = result * bin width): the
 * top of the data when the data spans no more than `levels + 1` bins (the
 * histogram is too coarse to judge the grid, so nothing is clipped), 0 for
 * an empty histogram.
 */
export function entropyThresholdBins(counts: Float64Array, levels: number): number {
  let end = counts.length;
  while (end > 0 && counts[end - 1] === 0) end--;
  if (end === 0) return 0;
  const first = levels + 1;
  if (first > end) return end;

  // Prefix sums over bins [0, k): mass, non-zero bins, sum of h ln h.
  const mass = new Float64Array(end + 1);
  const nonZero = new Float64Array(end + 1);
  const hLogH = new Float64Array(end + 1);
  for (let k = 0; k < end; k++) {
    const h = counts[k]!;
    mass[k + 1] = mass[k]! + h;
    nonZero[k + 1] = nonZero[k]! + (h > 0 ? 1 : 0);
    hLogH[k + 1] = hLogH[k]! + (h > 0 ? h * Math.log(h) : 0);
  }
  const total = mass[end]!;

  let best = end;
  let bestKl = Infinity;
  for (let i = first; i <= end; i++) {
    const kept = mass[i]!;
    if (kept === 0) continue; // everything clipped: Q is empty
    const pLast = counts[i - 1]! + (total - kept);
    const lastMask = pLast > 0 ? 1 : 0;
    const step = i / levels;

    // One sweep over the cells. For cell j = [lo, hi): its mass and its
    // count of non-zero bins (fractional where an edge splits a bin) give
    // Q's value on its non-zero bins; then P's bins wholly inside the cell
    // and the bin split by its lower edge add their P ln Q.
    let pLogQ = 0;
    let smoothed = 0; // bins where Q was 0 under P > 0, lifted to the floor
    const logFloor = Math.log(SMOOTHING * kept);
    let prevMass = 0; // cumulative count up to the lower edge
    let prevMask = 0; // cumulative non-zero bins up to the lower edge
    let prevValue = 0; // Q's value in cell j - 1
    let lo = 0; // lower edge, in bins
    for (let j = 0; j <= levels; j++) {
      const hi = j === levels ? i : (j + 0.5) * step;
      const k = Math.floor(hi);
      let cumMass: number;
      let cumMask: number;
      if (k >= i) {
        cumMass = kept;
        cumMask = nonZero[i - 1]! + lastMask;
      } else {
        const f = hi - k;
        cumMass = mass[k]! + f * counts[k]!;
        cumMask = nonZero[k]! + f * (k === i - 1 ? lastMask : counts[k]! > 0 ? 1 : 0);
      }
      const n = cumMask - prevMask;
      const value = n > 0 ? (cumMass - prevMass) / n : 0;

      // Bins wholly inside [lo, hi).
      const a = Math.ceil(lo);
      if (k > a) {
        const pMass = (k === i ? total : mass[k]!) - mass[a]!;
        if (pMass > 0) {
          if (value > 0) pLogQ += pMass * Math.log(value);
          else {
            pLogQ += pMass * logFloor;
            smoothed++;
          }
        }
      }
      // The bin split by the lower edge, shared with cell j - 1.
      if (j > 0) {
        const b = Math.floor(lo);
        if (b !== lo) {
          const pb = b === i - 1 ? pLast : counts[b]!;
          if (pb > 0) {
            const f = lo - b; // share of bin b in cell j - 1
            const q = f * prevValue + (1 - f) * value;
            if (q > 0) pLogQ += pb * Math.log(q);
            else {
              pLogQ += pb * logFloor;
              smoothed++;
            }
          }
        }
      }
      prevMass = cumMass;
      prevMask = cumMask;
      prevValue = value;
      lo = hi;
    }
    const pLogP = hLogH[i - 1]! + (pLast > 0 ? pLast * Math.log(pLast) : 0);
    // KL(P/total || Q/kept) = (sum P ln P - sum P ln Q) / total + ln(kept / total),
    // plus the renormalisation of Q after smoothing.
    const kl = (pLogP - pLogQ) / total + Math.log(kept / total) + Math.log1p(SMOOTHING * smoothed);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}
