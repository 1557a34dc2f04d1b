/**
 * Dawn for Node's polling against the kernels it waits for: the same kernels
 * timed with the package's busy polling and with quantgpu's paced polling
 * (src/gpu/dawn-polling.ts), in alternating rounds of one run, so that a slow
 * spell of the machine falls on both. On a CPU adapter the busy poll takes a
 * core from the shader threads; on a real GPU the two should be level.
 *
 *   npx tsx bench/dawn-polling.bench.ts [--rounds N] [--json]
 *
 * Columns: GOP/s by timestamp queries (the kernel's own time; a MAC counts 2
 * ops), the wall time of a round of dispatches each awaited, and the main
 * thread's CPU time in that round, per polling mode (medians over rounds).
 */
import { readFileSync } from 'node:fs';
import { requestGpu } from '../src/gpu/device.js';
import { installDawnPollingPacer } from '../src/gpu/dawn-polling.js';
import { convKernelPlan, igemmKernel, planConv } from '../src/gpu/ops/conv.js';
import { PipelineCache, type KernelSource, type KernelVariant } from '../src/gpu/pipeline-cache.js';
import { syntheticActivation, syntheticConv } from '../src/gpu/synthetic-layer.js';
import { median, timeKernels } from '../src/gpu/time-kernels.js';
import { MBV2, ZOO } from './conv-shapes.js';
import { formatTable } from './table.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const rounds = Number(arg('--rounds') ?? 4);
const json = process.argv.includes('--json');

/** CPU milliseconds of this process's main thread (Linux /proc; NaN elsewhere). */
function mainThreadCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

const gpu = await requestGpu({ polling: 'busy' });
const cache = new PipelineCache(gpu.device);
const shapes = [MBV2[1]!, MBV2[2]!, ZOO[0]!];
const rows: Array<Record<string, string | number>> = [];
for (const s of shapes) {
  const n = s.batch ?? 1;
  const oh = Math.floor((s.hw + 2 * ((s.k - 1) >> 1) - s.k) / s.stride) + 1;
  const macs = n * s.m * oh * oh * s.c * s.k * s.k;
  const plan = convKernelPlan(planConv(syntheticConv(s, 8), syntheticActivation('affine'), syntheticActivation('affine'), [n, s.c, s.hw, s.hw], gpu.facts, { fitWorkgroup: true }), 'x', 'y');
  const candidate = { label: s.name, kernel: igemmKernel as unknown as KernelSource<KernelVariant>, plan, inputBytes: n * s.hw * s.hw * Math.ceil(s.c / 4) * 4, outputBytes: n * oh * oh * Math.ceil(s.m / 4) * 4 };
  const seen: Record<'busy' | 'paced', { gops: number[]; wallMs: number[]; mainCpuMs: number[] }> = { busy: { gops: [], wallMs: [], mainCpuMs: [] }, paced: { gops: [], wallMs: [], mainCpuMs: [] } };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? (['busy', 'paced'] as const) : (['paced', 'busy'] as const)) {
      const release = mode === 'paced' ? installDawnPollingPacer() : () => {};
      try {
        const cpu0 = mainThreadCpuMs();
        const t0 = performance.now();
        const [seconds] = await timeKernels(gpu.device, cache, gpu.facts, [candidate], 5);
        seen[mode].wallMs.push(performance.now() - t0);
        seen[mode].mainCpuMs.push(mainThreadCpuMs() - cpu0);
        seen[mode].gops.push((2 * macs) / seconds! / 1e9);
      } finally {
        release();
      }
    }
  }
  const row: Record<string, string | number> = { shape: s.name };
  for (const mode of ['busy', 'paced'] as const) {
    row[`${mode} GOP/s`] = Number(median(seen[mode].gops).toFixed(3));
    row[`${mode} wall ms`] = Math.round(median(seen[mode].wallMs));
    row[`${mode} main-thread CPU ms`] = Math.round(median(seen[mode].mainCpuMs));
  }
  row['paced / busy'] = Number((median(seen.paced.gops) / median(seen.busy.gops)).toFixed(2));
  rows.push(row);
  if (!json) console.error(JSON.stringify(row));
}
gpu.destroy();
console.log(json ? JSON.stringify({ adapter: gpu.facts.description, rounds, rows }, null, 2) : `${gpu.facts.description}\n${formatTable(rows)}`);
