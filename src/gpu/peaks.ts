/**
 * The adapter's measured peaks (shaders/peak.wgsl): float32 FMA, vec4<i32>
 * multiply-add, each dot path's dot_lanes (dot4I8Packed where the adapter has
 * it, the unpacked vec4<i32> dot always), and copy bandwidth. bench/ prints
 * kernels' rates next to them (the engine's own choice of dot path times the
 * kernels themselves: kernel-choice.ts).
 * Each is the best of a few timed dispatches (wall time to
 * onSubmittedWorkDone, so no timestamp-query is needed), after one warm-up,
 * and an arithmetic peak the best over 2, 4 and 8 independent chains.
 */
import type { AdapterFacts } from './adapter-info.js';
import { createBindGroup } from './bind-group.js';
import { BufferTracker } from './buffer-tracker.js';
import { BufferUsage } from './flags.js';
import type { KernelSource, PipelineCache } from './pipeline-cache.js';
import { writeUniforms } from './reflect.js';
import type { KernelPlan } from './ops/kernel-plan.js';
import { composeShader } from './shader-parts.js';

export interface PeakVariant {
  readonly kernel: 'peak';
  readonly mode: 0 | 1 | 2 | 3;
  readonly dot4: boolean;
  /** Independent chains per invocation in the arithmetic modes. */
  readonly chains: PeakChains;
}

/** The chain counts tried: the fastest depends on the adapter's latencies and registers. */
export const PEAK_CHAINS = [2, 4, 8] as const;
export type PeakChains = (typeof PEAK_CHAINS)[number];

const WG = 64;
/** Operations one chain does in a round, in every arithmetic mode of peak.wgsl. */
const OPS_PER_CHAIN_ROUND = 8;
/** Seeds the peak kernels' operands (any value: they only keep the work from folding away). */
const SEED = 12345;

export const peakKernel: KernelSource<PeakVariant> = {
  shader: (v) => composeShader([v.dot4 ? 'dot4_packed.wgsl' : 'dot4_unpacked.wgsl', 'peak.wgsl']),
  entryPoint: 'main',
  constants: (v) => ({ MODE: v.mode, WG, CHAINS: v.chains }),
};

export interface AdapterPeaks {
  /** 10^9 float32 operations (an FMA is 2) per second. */
  readonly f32Gflops: number;
  /** 10^9 i32 operations (a multiply-add is 2) per second, on vec4<i32>. */
  readonly i32Gops: number;
  /** 10^9 int8 operations (a MAC is 2) per second through dot4I8Packed; null without the feature. */
  readonly dot4Gops: number | null;
  /** The same through the unpacked path (unpack both words, then the vec4<i32> dot), unamortized. */
  readonly unpackedDotGops: number;
  /** Copy bandwidth, 10^9 bytes (read plus written) per second. */
  readonly bandwidthGBs: number;
  /** The chain count that gave each arithmetic peak (null: no dot4I8Packed). */
  readonly chains: { readonly f32: PeakChains; readonly i32: PeakChains; readonly dot4: PeakChains | null; readonly unpackedDot: PeakChains };
}

/**
 * One arithmetic peak kernel as a KernelPlan (`src` unused, `dst` one vec4 per
 * invocation), so that benches can time it by timestamps side by side with
 * the kernels it is the yardstick of; `ops` is its work in operations.
 */
export function peakKernelPlan(mode: 0 | 1 | 2, dot4: boolean, chains: PeakChains, invocations: number, iterations: number): { plan: KernelPlan<PeakVariant>; ops: number; srcBytes: number; dstBytes: number } {
  const groups = Math.ceil(invocations / WG);
  const plan: KernelPlan<PeakVariant> = {
    variant: { kernel: 'peak', mode, dot4, chains },
    dispatch: [groups, 1, 1],
    uniforms: { params: { iterations, words: groups * WG, seed: SEED } },
    buffers: { src: { role: 'input', tensor: 'x' }, dst: { role: 'output', tensor: 'y', bytes: groups * WG * 16 } },
  };
  return { plan, ops: groups * WG * iterations * chains * OPS_PER_CHAIN_ROUND, srcBytes: 16, dstBytes: groups * WG * 16 };
}

/** The seconds of the fastest of `repeats` runs of `submit` (after one warm-up). */
async function bestSeconds(device: GPUDevice, submit: () => void, repeats: number): Promise<number> {
  submit();
  await device.queue.onSubmittedWorkDone();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    submit();
    await device.queue.onSubmittedWorkDone();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

export interface PeakOptions {
  /** Invocations per dispatch (default 64 * 256). */
  readonly invocations?: number;
  /** Loop rounds per invocation in the arithmetic modes (default 256). */
  readonly iterations?: number;
  readonly repeats?: number;
}

export async function measurePeaks(device: GPUDevice, cache: PipelineCache, facts: Pick<AdapterFacts, 'dot4I8Packed'>, options: PeakOptions = {}): Promise<AdapterPeaks> {
  const groups = Math.ceil((options.invocations ?? WG * 256) / WG);
  const invocations = groups * WG;
  const iterations = options.iterations ?? 256;
  const repeats = options.repeats ?? 3;
  const tracker = new BufferTracker(device);
  try {
    const copyWords = 1 << 20; // 16 MiB of vec4<u32>
    const src = tracker.create({ label: 'peak:src', size: copyWords * 16, usage: BufferUsage.STORAGE });
    const dst = tracker.create({ label: 'peak:dst', size: copyWords * 16, usage: BufferUsage.STORAGE });
    const rate = async (mode: PeakVariant['mode'], dot4: boolean, workPerInvocation: number, rounds: number, chains: PeakChains = 8): Promise<number> => {
      const kernel = await cache.get(peakKernel, { kernel: 'peak', mode, dot4, chains });
      const uniforms = tracker.createWithData('peak:params', BufferUsage.UNIFORM, new Uint8Array(writeUniforms(kernel.reflection.uniforms['params']!, { iterations: rounds, words: copyWords, seed: SEED })));
      const bindGroup = createBindGroup(device, kernel, 0, { params: uniforms, src, dst });
      const dispatchGroups = mode === 3 ? Math.ceil(copyWords / rounds / WG) : groups;
      const seconds = await bestSeconds(
        device,
        () => {
          const encoder = device.createCommandEncoder({ label: kernel.label });
          const pass = encoder.beginComputePass();
          pass.setPipeline(kernel.pipeline);
          pass.setBindGroup(0, bindGroup);
          pass.dispatchWorkgroups(dispatchGroups);
          pass.end();
          device.queue.submit([encoder.finish()]);
        },
        repeats,
      );
      uniforms.destroy();
      return ((mode === 3 ? dispatchGroups * WG : invocations) * workPerInvocation) / seconds / 1e9;
    };
    const best = async (mode: 0 | 1 | 2, dot4: boolean): Promise<{ rate: number; chains: PeakChains }> => {
      let top = { rate: 0, chains: PEAK_CHAINS[0] as PeakChains };
      for (const chains of PEAK_CHAINS) {
        const r = await rate(mode, dot4, iterations * chains * OPS_PER_CHAIN_ROUND, iterations, chains);
        if (r > top.rate) top = { rate: r, chains };
      }
      return top;
    };
    const f32 = await best(0, false);
    const i32 = await best(1, false);
    const dot4 = facts.dot4I8Packed ? await best(2, true) : null;
    const unpacked = await best(2, false);
    return {
      f32Gflops: f32.rate,
      i32Gops: i32.rate,
      dot4Gops: dot4?.rate ?? null,
      unpackedDotGops: unpacked.rate,
      bandwidthGBs: await rate(3, false, 16 * 32, 16),
      chains: { f32: f32.chains, i32: i32.chains, dot4: dot4?.chains ?? null, unpackedDot: unpacked.chains },
    };
  } finally {
    tracker.destroyAll();
  }
}
