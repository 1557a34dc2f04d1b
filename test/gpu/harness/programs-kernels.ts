/**
 * The test programs of every kernel: one program runs one planned step,
 * exactly as a session plans it (the operator table's kernels, the
 * KernelPlan's uniforms, constants and bindings, prepareKernel), on given
 * packed inputs with its output poisoned, and returns the output words.
 * Plans are made in the test process (pure functions); their constant
 * arrays cross into the page as base64.
 */
import type { BufferTracker } from '../../../src/gpu/buffer-tracker.js';
import { BufferUsage } from '../../../src/gpu/flags.js';
import type { KernelVariant } from '../../../src/gpu/pipeline-cache.js';
import { readBuffer } from '../../../src/gpu/readback.js';
import { prepareKernel, type BufferRole, type ByteRange, type KernelPlan } from '../../../src/gpu/ops/kernel-plan.js';
import { kernelByName } from '../../../src/runtime/operators.js';
import { decodeInt32, encodeInt32 } from './codec.js';
import { createPoisonedBuffer } from './poison.js';
import type { ProgramContext } from './programs.js';

type WireRole =
  | Exclude<BufferRole, { readonly role: 'constant' }>
  | { readonly role: 'constant'; readonly data: string; readonly type: 'i32' | 'u32' | 'f32'; readonly range?: ByteRange };

/** A plan as JSON: constant arrays as base64 of their 32-bit words. */
export interface WirePlan {
  readonly variant: KernelVariant;
  readonly dispatch: readonly [number, number, number];
  readonly uniforms: KernelPlan['uniforms'];
  readonly buffers: Readonly<Record<string, WireRole>>;
}

export function encodePlan(plan: KernelPlan): WirePlan {
  const buffers: Record<string, WireRole> = {};
  for (const [name, r] of Object.entries(plan.buffers)) {
    if (r.role !== 'constant') buffers[name] = r;
    else {
      const type = r.data instanceof Float32Array ? 'f32' : r.data instanceof Uint32Array ? 'u32' : 'i32';
      buffers[name] = { role: 'constant', type, data: encodeInt32(new Int32Array(r.data.buffer, r.data.byteOffset, r.data.length)), ...(r.range === undefined ? {} : { range: r.range }) };
    }
  }
  return { variant: plan.variant, dispatch: plan.dispatch, uniforms: plan.uniforms, buffers };
}

function decodePlan(wire: WirePlan): KernelPlan {
  const buffers: Record<string, BufferRole> = {};
  for (const [name, r] of Object.entries(wire.buffers)) {
    if (r.role !== 'constant') buffers[name] = r;
    else {
      const words = decodeInt32(r.data);
      buffers[name] = { role: 'constant', data: r.type === 'f32' ? new Float32Array(words.buffer) : r.type === 'u32' ? new Uint32Array(words.buffer) : words, ...(r.range === undefined ? {} : { range: r.range }) };
    }
  }
  return { ...wire, buffers };
}

export interface PlanArgs {
  readonly plan: WirePlan;
  /** Each input tensor's words (packed lanes, or f32 bits for the quantize input), base64. */
  readonly inputs: Readonly<Record<string, string>>;
}

async function runPlan(ctx: ProgramContext, args: PlanArgs): Promise<{ output: string }> {
  const plan = decodePlan(args.plan);
  const source = kernelByName(plan.variant.kernel);
  if (source === undefined) throw new Error(`no kernel '${plan.variant.kernel}' in the operator table`);
  const kernel = await ctx.cache.get(source, plan.variant as never);
  const tracker: BufferTracker = ctx.tracker;
  const device = tracker.device;
  const made: GPUBuffer[] = [];
  try {
    const tensors: Record<string, GPUBuffer> = {};
    let output: { buffer: GPUBuffer; bytes: number } | undefined;
    for (const r of Object.values(plan.buffers)) {
      if (r.role === 'input' && tensors[r.tensor] === undefined) {
        const data = args.inputs[r.tensor];
        if (data === undefined) throw new Error(`no data for input '${r.tensor}'`);
        const buffer = tracker.createWithData(`input:${r.tensor}`, BufferUsage.STORAGE, decodeInt32(data));
        made.push(buffer);
        tensors[r.tensor] = buffer;
      } else if (r.role === 'output') {
        const buffer = createPoisonedBuffer(tracker, `output:${r.tensor}`, BufferUsage.STORAGE | BufferUsage.COPY_SRC, r.bytes);
        made.push(buffer);
        tensors[r.tensor] = buffer;
        output = { buffer, bytes: r.bytes };
      }
    }
    if (output === undefined) throw new Error(`${kernel.label}: the plan has no output`);
    const op = prepareKernel(tracker, kernel, plan, tensors);
    try {
      const encoder = device.createCommandEncoder({ label: kernel.label });
      const pass = encoder.beginComputePass({ label: kernel.label });
      op.encode(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      return { output: encodeInt32(new Int32Array(await readBuffer(tracker, output.buffer, output.bytes))) };
    } finally {
      op.destroy();
    }
  } finally {
    for (const b of made) b.destroy();
  }
}

export const kernelPrograms = {
  plan: runPlan,
  /** Several ops in one run (one host round trip for a sweep of cases). */
  async plans(ctx: ProgramContext, args: { readonly cases: readonly PlanArgs[] }): Promise<{ outputs: string[] }> {
    const outputs: string[] = [];
    for (const c of args.cases) outputs.push((await runPlan(ctx, c)).output);
    return { outputs };
  },
};
