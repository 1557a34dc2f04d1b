/**
 * The dispatch arithmetic every grid kernel shares (grid.wgsl): a fixed
 * workgroup size, and a 1-D grid folded into two dimensions past the
 * adapter's per-dimension limit. Activation layouts are in src/quant/lanes.ts.
 */
import { ResourceLimitError } from '../../errors.js';

/** Threads per workgroup of every grid kernel (grid.wgsl). */
export const WORKGROUP_SIZE = 64;

/**
 * Workgroups for `invocations` threads of WORKGROUP_SIZE, as [x, y, 1]: past
 * maxComputeWorkgroupsPerDimension the grid wraps into y, and the shaders
 * flatten it back (grid.wgsl, flat_index); surplus threads return early.
 */
export function dispatch1d(invocations: number, maxPerDimension: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / WORKGROUP_SIZE));
  if (groups <= maxPerDimension) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) throw new ResourceLimitError(`${invocations} invocations need more than ${maxPerDimension}^2 workgroups (maxComputeWorkgroupsPerDimension)`, 'maxComputeWorkgroupsPerDimension');
  return [Math.ceil(groups / y), y, 1];
}
