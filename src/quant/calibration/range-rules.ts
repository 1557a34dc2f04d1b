/** A clipping range for the quantizer: values are clamped to [lo, hi] before rounding. */
export interface ClipRange {
  lo: number;
  hi: number;
}

/**
 * Magnitudes at or below this count as zero when choosing a range. A tensor
 * whose range would be this narrow carries no signal the integer grid could
 * hold, and a range built from it would give scales so small that the
 * requantization multipliers of its neighbours overflow.
 */
export const NEGLIGIBLE_MAGNITUDE = 2 ** -32;

/**
 * The rule for degenerate ranges, shared by activations and weights: a range
 * with max(|lo|, |hi|) <= NEGLIGIBLE_MAGNITUDE (an all-zero tensor, or one
 * never seen) becomes the unit range, [-1, 1] when symmetric and [0, 1]
 * when affine. Its scale (1/127, 1/255 at 8 bits) is ordinary, zero is
 * still exact, and the tensor's values (all ~0) still map to q = zero point.
 * Any other range is kept: a constant tensor c != 0 gives [-|c|, |c|]
 * (symmetric) or [min(c, 0), max(c, 0)] (affine), non-zero in width, with c
 * itself on the grid.
 */
export function saneRange(range: ClipRange, symmetric: boolean): ClipRange {
  if (Math.max(-range.lo, range.hi) > NEGLIGIBLE_MAGNITUDE) return range;
  return symmetric ? { lo: -1, hi: 1 } : { lo: 0, hi: 1 };
}
