/**
 * Timing kernels against each other on one device: each candidate gets its
 * own input and output buffers, and the candidates are dispatched in turns
 * (A B C A B C ...), so that a slow spell of a shared machine falls on all
 * of them alike; each time is the median of `repeats` after a warm-up, from
 * timestamp queries around the pass where the adapter has them, else wall
 * time to onSubmittedWorkDone. Used by the dot-path choice and bench/.
 */
import type { AdapterFacts } from './adapter-info.js';
import { BufferTracker } from './buffer-tracker.js';
import { BufferUsage, MapMode } from './flags.js';
import { prepareKernel, type KernelPlan } from './ops/kernel-plan.js';
import type { KernelSource, KernelVariant, PipelineCache } from './pipeline-cache.js';

/** The middle of the values (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface TimedKernel {
  readonly label: string;
  readonly kernel: KernelSource<KernelVariant>;
  readonly plan: KernelPlan;
  readonly inputBytes: number;
  readonly outputBytes: number;
}

export async function timeKernels(device: GPUDevice, cache: PipelineCache, facts: Pick<AdapterFacts, 'timestampQuery'>, candidates: readonly TimedKernel[], repeats: number): Promise<number[]> {
  const tracker = new BufferTracker(device);
  const querySet = facts.timestampQuery ? device.createQuerySet({ label: 'timeKernels', type: 'timestamp', count: 2 }) : undefined;
  try {
    const resolve = querySet ? tracker.create({ label: 'timeKernels:resolve', size: 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC }) : undefined;
    const read = querySet ? tracker.create({ label: 'timeKernels:read', size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST }) : undefined;
    const ops = await Promise.all(
      candidates.map(async (c) => {
        const compiled = await cache.get(c.kernel, c.plan.variant);
        const x = tracker.create({ label: `${c.label}:x`, size: c.inputBytes, usage: BufferUsage.STORAGE });
        const y = tracker.create({ label: `${c.label}:y`, size: c.outputBytes, usage: BufferUsage.STORAGE });
        const tensors: Record<string, GPUBuffer> = {};
        for (const role of Object.values(c.plan.buffers)) if (role.role !== 'constant') tensors[role.tensor] = role.role === 'input' ? x : y;
        return prepareKernel(tracker, compiled, c.plan, tensors);
      }),
    );
    const times: number[][] = candidates.map(() => []);
    for (let r = 0; r <= repeats; r++) {
      for (const [i, op] of ops.entries()) {
        const encoder = device.createCommandEncoder({ label: candidates[i]!.label });
        const pass = encoder.beginComputePass(querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
        op.encode(pass);
        pass.end();
        if (querySet) {
          encoder.resolveQuerySet(querySet, 0, 2, resolve!, 0);
          encoder.copyBufferToBuffer(resolve!, 0, read!, 0, 16);
        }
        const t0 = performance.now();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        let seconds = (performance.now() - t0) / 1000;
        if (read) {
          await read.mapAsync(MapMode.READ);
          const ns = new BigUint64Array(read.getMappedRange().slice(0));
          read.unmap();
          // Timestamps may be quantized (browsers round them unless developer features are on):
          // a pass shorter than the quantum reads 0, and the wall time is the better measure.
          const gpuSeconds = Number(ns[1]! - ns[0]!) / 1e9;
          if (gpuSeconds > 0) seconds = gpuSeconds;
        }
        if (r > 0) times[i]!.push(seconds);
      }
    }
    return times.map(median);
  } finally {
    querySet?.destroy();
    tracker.destroyAll();
  }
}
