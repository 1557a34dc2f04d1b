import type { Tensor } from '../../src/cpu/tensor.js';

/** max |ours - ref| / max |ref| over all outputs together. */
export function relativeError(ours: readonly Tensor[], ref: readonly Tensor[]): number {
  let diff = 0;
  let scale = 0;
  ref.forEach((r, k) => {
    const o = ours[k]!;
    if (o.data.length !== r.data.length) throw new Error(`output ${k}: ${o.data.length} values, the reference gives ${r.data.length}`);
    for (let i = 0; i < r.data.length; i++) {
      diff = Math.max(diff, Math.abs(o.data[i]! - r.data[i]!));
      scale = Math.max(scale, Math.abs(r.data[i]!));
    }
  });
  return scale === 0 ? diff : diff / scale;
}
