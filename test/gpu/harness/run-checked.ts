/**
 * Runs one test program under the checks that ordinary tests miss (STYLE.md
 * point 10), the same way in both hosts, through the one mechanism every GPU
 * test uses (src/host/gpu-checks.ts): a check frame around the program
 * collects WebGPU errors (error scopes and uncaptured errors) and every buffer
 * made during the run that is not destroyed by its end (then destroyed).
 * Outputs are poisoned by the kernels' own helpers (poison.ts). Findings are
 * returned, not thrown, so that the test process asserts on them and prints
 * them whichever host ran the program; the frame nests inside the whole
 * test's frame (on-hosts.ts), which then sees nothing the program left.
 */
import { BufferTracker } from '../../../src/gpu/buffer-tracker.js';
import type { Gpu } from '../../../src/gpu/device.js';
import type { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import { GpuWatch } from '../../../src/host/gpu-checks.js';
import { programs, type ProgramArgs, type ProgramName, type ProgramResult } from './programs.js';

export interface CheckedRun<R> {
  /** The program's result; undefined when it threw. */
  readonly value?: R;
  /** What the program threw (name, message and stack), if it threw. */
  readonly thrown?: string;
  /** WebGPU errors raised during the run (scoped or uncaptured), as `kind: message`. */
  readonly gpuErrors: readonly string[];
  /** Labels of buffers made during the run and not destroyed by its end. */
  readonly leakedBuffers: readonly string[];
  /** Wall time of the run in the host, milliseconds. */
  readonly ms: number;
}

export async function runChecked<N extends ProgramName>(gpu: Gpu, cache: PipelineCache, name: N, args: ProgramArgs<N>): Promise<CheckedRun<ProgramResult<N>>> {
  const program = programs[name] as (ctx: unknown, args: ProgramArgs<N>) => Promise<ProgramResult<N>>;
  if (typeof program !== 'function') throw new Error(`no GPU test program '${String(name)}'`);
  const start = performance.now();
  const frame = GpuWatch.of(gpu.device).begin();
  // The programs make their buffers through a tracker; the frame sees those and any made directly.
  const tracker = new BufferTracker(gpu.device);
  let value: ProgramResult<N> | undefined;
  let thrown: string | undefined;
  try {
    value = await program({ gpu, cache, tracker }, args);
  } catch (e) {
    thrown = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  }
  const { gpuErrors, leakedBuffers } = await frame.end();
  const ms = performance.now() - start;
  return { ...(value !== undefined ? { value } : {}), ...(thrown !== undefined ? { thrown } : {}), gpuErrors, leakedBuffers, ms };
}
