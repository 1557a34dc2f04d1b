/**
 * Runs one test program under the checks that ordinary tests miss (STYLE.md
 * point 10), the same way in both hosts:
 * - error scopes (validation, out-of-memory, internal) around the program, and
 *   a listener for uncaptured errors: a WebGPU error does not throw, it only
 *   marks an object invalid, so a test passes over it unless it asks;
 * - a buffer tracker watching the device: every buffer made during the run
 *   must be destroyed by its end;
 * - (outputs are poisoned by the kernels' own helpers, see poison.ts).
 * Findings are returned, not thrown, so that the test process asserts on
 * them and prints them whichever host ran the program.
 */
import { BufferTracker } from '../../../src/gpu/buffer-tracker.js';
import type { Gpu } from '../../../src/gpu/device.js';
import type { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
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

const SCOPES: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

export async function runChecked<N extends ProgramName>(gpu: Gpu, cache: PipelineCache, name: N, args: ProgramArgs<N>): Promise<CheckedRun<ProgramResult<N>>> {
  const program = programs[name] as (ctx: unknown, args: ProgramArgs<N>) => Promise<ProgramResult<N>>;
  if (typeof program !== 'function') throw new Error(`no GPU test program '${String(name)}'`);
  const device = gpu.device;
  const start = performance.now();
  const gpuErrors: string[] = [];
  const onUncaptured = (event: Event): void => {
    gpuErrors.push(`uncaptured: ${(event as GPUUncapturedErrorEvent).error.message}`);
  };
  device.addEventListener('uncapturederror', onUncaptured);
  const tracker = new BufferTracker(device);
  const unwatch = tracker.watch();
  for (const s of SCOPES) device.pushErrorScope(s);
  let value: ProgramResult<N> | undefined;
  let thrown: string | undefined;
  try {
    value = await program({ gpu, cache, tracker }, args);
  } catch (e) {
    thrown = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  } finally {
    // Let submitted work finish, so that errors it raises land in this run.
    await device.queue.onSubmittedWorkDone();
    for (const s of [...SCOPES].reverse()) {
      const error = await device.popErrorScope();
      if (error !== null) gpuErrors.push(`${s}: ${error.message}`);
    }
    unwatch();
    device.removeEventListener('uncapturederror', onUncaptured);
  }
  const leakedBuffers = tracker.live();
  tracker.destroyAll(); // so one leaky test does not hold memory for the next
  const ms = performance.now() - start;
  return { ...(value !== undefined ? { value } : {}), ...(thrown !== undefined ? { thrown } : {}), gpuErrors, leakedBuffers, ms };
}
