/**
 * The dispatch arithmetic the kernels share: a fixed workgroup size for the
 * grid kernels (grid.wgsl), and grids folded into a further dimension past
 * the adapter's per-dimension limit (maxComputeWorkgroupsPerDimension): a
 * 1-D grid of the grid kernels wraps into y, the row blocks of the igemm
 * cores (conv_io.wgsl, row_block) into z. Activation layouts are in
 * src/quant/lanes.ts.
 */
import { ResourceLimitError } from '../../errors.js';

/** Threads per workgroup of every grid kernel (grid.wgsl). */
export const WORKGROUP_SIZE = 64;

/**
 * `groups` workgroups of one dimension laid out over two, [a, b] with
 * a * b >= groups and neither above `maxPerDimension` (b = 1 where they fit
 * one); the shader recovers the index as `first + second * a` and the
 * surplus of the last row does nothing. Refused, with the limit named, where
 * even the square of the limit is too few: `what` says what needed them.
 */
export function foldGroups(groups: number, maxPerDimension: number, what: string): [number, number] {
  const n = Math.max(1, groups);
  if (n <= maxPerDimension) return [n, 1];
  const b = Math.ceil(n / maxPerDimension);
  if (b > maxPerDimension) throw new ResourceLimitError(`${what} need ${n} workgroups, more than ${maxPerDimension}^2 even folded over two dimensions (maxComputeWorkgroupsPerDimension ${maxPerDimension})`, 'maxComputeWorkgroupsPerDimension');
  return [Math.ceil(n / b), b];
}

/**
 * Workgroups for `invocations` threads of WORKGROUP_SIZE, as [x, y, 1]: past
 * maxComputeWorkgroupsPerDimension the grid wraps into y, and the shaders
 * flatten it back (grid.wgsl, flat_index); surplus threads return early.
 */
export function dispatch1d(invocations: number, maxPerDimension: number): [number, number, number] {
  const [x, y] = foldGroups(Math.ceil(invocations / WORKGROUP_SIZE), maxPerDimension, `${invocations} invocations`);
  return [x, y, 1];
}
