/**
 * Which igemm variant runs fastest on this adapter: the dot path
 * (dot4I8Packed where the adapter has it, or unpacked vec4<i32>), the core
 * (direct, or staging operands in workgroup memory), the register tile
 * (positions per invocation) and the workgroup shape. Which wins
 * depends on the adapter (on SwiftShader dot4I8Packed is emulated; on real
 * GPUs it is a native instruction), so the engine times the candidates on a
 * reference layer at set-up, once per adapter in a process, and the plans
 * use the winner. A user can force any field (PlanOptions).
 */
import type { AdapterFacts } from './adapter-info.js';
import { convKernelPlan, igemmKernel, planConv } from './ops/conv.js';
import type { KernelSource, KernelVariant, PipelineCache } from './pipeline-cache.js';
import { syntheticActivation, syntheticConv } from './synthetic-layer.js';
import { timeKernels, type TimedKernel } from './time-kernels.js';

export interface KernelChoice {
  readonly dot4: boolean;
  readonly tiled: boolean;
  readonly rows: number;
  readonly workgroupX: number;
  readonly workgroupY: number;
  /** GOP/s of each candidate on the reference layer, by label, for reports. */
  readonly measured: Readonly<Record<string, number>>;
}

/** The reference: a 3x3 convolution of 32 to 32 channels on 2 x 16 x 16 (4.7 M MACs). */
const REFERENCE = { name: 'reference 3x3 32->32', c: 32, m: 32, k: 3, stride: 1 } as const;
const INPUT = [2, 32, 16, 16] as const;
const TILES = [
  { tiled: false, rows: 4, workgroupX: 8, workgroupY: 8 },
  { tiled: false, rows: 4, workgroupX: 4, workgroupY: 16 },
  { tiled: false, rows: 2, workgroupX: 8, workgroupY: 8 },
  { tiled: true, rows: 4, workgroupX: 8, workgroupY: 8 },
  { tiled: true, rows: 2, workgroupX: 16, workgroupY: 16 },
] as const;

/** Bytes of workgroup memory the tiled core declares (igemm_tiled.wgsl: two arrays of 1024 u32). */
const TILED_WORKGROUP_BYTES = 8192;

/** Whether the adapter's limits allow a tile: invocations and sizes per workgroup, and workgroup memory for the tiled core. */
export function fitsLimits(t: { tiled: boolean; workgroupX: number; workgroupY: number }, limits: Readonly<Record<string, number>>): boolean {
  const at = (name: string, fallback: number): number => limits[name] ?? fallback;
  return (
    t.workgroupX * t.workgroupY <= at('maxComputeInvocationsPerWorkgroup', 256) &&
    t.workgroupX <= at('maxComputeWorkgroupSizeX', 256) &&
    t.workgroupY <= at('maxComputeWorkgroupSizeY', 256) &&
    (!t.tiled || TILED_WORKGROUP_BYTES <= at('maxComputeWorkgroupStorageSize', 16384))
  );
}

/** Choices measured, by adapter; measurements in progress, by device (a lost device must not fail another's session). */
const chosen = new Map<string, KernelChoice>();
const measuring = new WeakMap<GPUDevice, Promise<KernelChoice>>();

/** One key per adapter (and host): devices of one adapter share a choice. */
export function adapterKey(f: AdapterFacts): string {
  return JSON.stringify([f.host, f.vendor, f.architecture, f.device, f.description, f.dot4I8Packed]);
}

export function chooseKernels(device: GPUDevice, cache: PipelineCache, facts: AdapterFacts): Promise<KernelChoice> {
  const key = adapterKey(facts);
  const known = chosen.get(key);
  if (known !== undefined) return Promise.resolve(known);
  let c = measuring.get(device);
  if (c === undefined) {
    c = measureChoice(device, cache, facts).then((choice) => {
      chosen.set(key, choice);
      return choice;
    });
    measuring.set(device, c);
    c.catch(() => measuring.delete(device));
  }
  return c;
}

/** The planner's own defaults, where no candidate fits the adapter or timing is impossible. */
const DEFAULT_CHOICE = { tiled: false, rows: 4, workgroupX: 8, workgroupY: 8 } as const;

async function measureChoice(device: GPUDevice, cache: PipelineCache, facts: AdapterFacts): Promise<KernelChoice> {
  const q = syntheticConv(REFERENCE, 8);
  const p = syntheticActivation('affine');
  const macs = INPUT[0] * REFERENCE.m * INPUT[2] * INPUT[3] * REFERENCE.c * 9;
  const candidates: Array<TimedKernel & { choice: Omit<KernelChoice, 'measured'> }> = [];
  for (const dot4 of facts.dot4I8Packed ? [true, false] : [false]) {
    for (const tile of TILES.filter((t) => fitsLimits(t, facts.limits))) {
      const plan = planConv(q, p, p, INPUT, facts, { dot4, ...tile });
      candidates.push({
        label: `${dot4 ? 'dot4I8Packed' : 'vec4<i32>'} ${tile.tiled ? 'tiled' : 'direct'} rows ${tile.rows} workgroup ${tile.workgroupX}x${tile.workgroupY}`,
        kernel: igemmKernel as unknown as KernelSource<KernelVariant>,
        plan: convKernelPlan(plan, 'x', 'y'),
        inputBytes: plan.inputWords * 4,
        outputBytes: plan.outputWords * 4,
        choice: { dot4, ...tile },
      });
    }
  }
  if (candidates.length === 0) return { dot4: facts.dot4I8Packed, ...DEFAULT_CHOICE, measured: {} };
  const seconds = await timeKernels(device, cache, facts, candidates, 5);
  const best = pickChoice(candidates.map((c) => c.choice), seconds);
  return { ...candidates[best]!.choice, measured: Object.fromEntries(candidates.map((c, i) => [c.label, (2 * macs) / seconds[i]! / 1e9])) };
}

/**
 * How much faster (in rate) the unpacked path must be on the reference layer
 * before it is chosen over dot4I8Packed. Where the two are level (SwiftShader:
 * within 5-10% either way on every layer of bench/gpu-kernels.bench.ts), the
 * reference layer's medians of a few dispatches still put the unpacked path
 * up to about 25% ahead in some runs, and the choice would flip between
 * runs; dot4I8Packed keeps a quarter of the registers per operand, and is the
 * path the adapters that have it are built for. An adapter where the unpacked
 * path is truly faster shows it by more than this.
 */
export const UNPACKED_MARGIN = 0.3;

/** The index of the candidate to use: the fastest, unless it is unpacked and its rate exceeds the best dot4I8Packed one's by no more than UNPACKED_MARGIN. */
export function pickChoice(choices: ReadonlyArray<{ readonly dot4: boolean }>, seconds: readonly number[]): number {
  let fastest = 0;
  let fastestDot4 = -1;
  seconds.forEach((s, i) => {
    if (s < seconds[fastest]!) fastest = i;
    if (choices[i]!.dot4 && (fastestDot4 < 0 || s < seconds[fastestDot4]!)) fastestDot4 = i;
  });
  if (choices[fastest]!.dot4 || fastestDot4 < 0) return fastest;
  return seconds[fastest]! * (1 + UNPACKED_MARGIN) < seconds[fastestDot4]! ? fastest : fastestDot4;
}
