/**
 * The points no other point beats on both counts: higher (or equal)
 * accuracy at lower (or equal) cost, one of them strictly. Returns their
 * indices, by rising cost.
 */
export function paretoFront(points: ReadonlyArray<{ accuracy: number; cost: number }>): number[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.cost - points[b]!.cost || points[b]!.accuracy - points[a]!.accuracy);
  const front: number[] = [];
  let best = -Infinity;
  for (const i of order) {
    if (points[i]!.accuracy > best) {
      front.push(i);
      best = points[i]!.accuracy;
    }
  }
  return front;
}
