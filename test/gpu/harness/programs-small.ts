/**
 * Test programs of the small kernels (quantize/dequantize, LUT, pools,
 * add/sub/mul, depthwise, concat): one program runs one planned op on given packed
 * inputs, with its output poisoned, and returns the output words. Plans are
 * made in the test process (pure functions); their constant arrays cross into
 * the page as base64.
 */
import type { BufferTracker } from '../../../src/gpu/buffer-tracker.js';
import { BufferUsage } from '../../../src/gpu/flags.js';
import type { KernelSource, KernelVariant } from '../../../src/gpu/pipeline-cache.js';
import { readBuffer } from '../../../src/gpu/readback.js';
import { concatKernel } from '../../../src/gpu/ops/concat.js';
import { depthwiseKernel } from '../../../src/gpu/ops/depthwise.js';
import { binaryKernel } from '../../../src/gpu/ops/elementwise.js';
import { lutKernel } from '../../../src/gpu/ops/lut.js';
import { poolKernel } from '../../../src/gpu/ops/pool.js';
import { dequantizeKernel, quantizeKernel } from '../../../src/gpu/ops/quantize.js';
import { prepareSmallOp, type BufferRole, type SmallPlan } from '../../../src/gpu/ops/small-plan.js';
import { decodeInt32, encodeInt32 } from './codec.js';
import { createPoisonedBuffer } from './poison.js';
import type { ProgramContext } from './programs.js';

const KERNELS: Record<string, KernelSource<never>> = {
  quantize: quantizeKernel,
  dequantize: dequantizeKernel,
  lut: lutKernel,
  pool: poolKernel,
  elementwise: binaryKernel,
  depthwise: depthwiseKernel,
  concat: concatKernel,
} as Record<string, KernelSource<never>>;

type WireRole = { readonly role: 'input'; readonly tensor: string } | { readonly role: 'output'; readonly tensor: string; readonly bytes: number } | { readonly role: 'constant'; readonly data: string; readonly type: 'i32' | 'u32' | 'f32' };

/** A plan as JSON: constant arrays as base64 of their 32-bit words. */
export interface WirePlan {
  readonly variant: KernelVariant;
  readonly dispatch: readonly [number, number, number];
  readonly uniforms: SmallPlan['uniforms'];
  readonly buffers: Readonly<Record<string, WireRole>>;
}

export function encodePlan(plan: SmallPlan): WirePlan {
  const buffers: Record<string, WireRole> = {};
  for (const [name, r] of Object.entries(plan.buffers)) {
    if (r.role !== 'constant') buffers[name] = r;
    else {
      const type = r.data instanceof Float32Array ? 'f32' : r.data instanceof Uint32Array ? 'u32' : 'i32';
      buffers[name] = { role: 'constant', type, data: encodeInt32(new Int32Array(r.data.buffer, r.data.byteOffset, r.data.length)) };
    }
  }
  return { variant: plan.variant, dispatch: plan.dispatch, uniforms: plan.uniforms, buffers };
}

function decodePlan(wire: WirePlan): SmallPlan {
  const buffers: Record<string, BufferRole> = {};
  for (const [name, r] of Object.entries(wire.buffers)) {
    if (r.role !== 'constant') buffers[name] = r;
    else {
      const words = decodeInt32(r.data);
      buffers[name] = { role: 'constant', data: r.type === 'f32' ? new Float32Array(words.buffer) : r.type === 'u32' ? new Uint32Array(words.buffer) : words };
    }
  }
  return { ...wire, buffers };
}

export interface SmallOpArgs {
  readonly plan: WirePlan;
  /** Each input tensor's words (packed lanes, or f32 bits for the quantize input), base64. */
  readonly inputs: Readonly<Record<string, string>>;
}

async function runSmallOp(ctx: ProgramContext, args: SmallOpArgs): Promise<{ output: string }> {
  const plan = decodePlan(args.plan);
  const source = KERNELS[plan.variant.kernel];
  if (source === undefined) throw new Error(`no small kernel '${plan.variant.kernel}'`);
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
    const op = prepareSmallOp(tracker, kernel, plan, tensors);
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

export const smallPrograms = {
  smallOp: runSmallOp,
  /** Several ops in one run (one host round trip for a sweep of cases). */
  async smallOps(ctx: ProgramContext, args: { readonly cases: readonly SmallOpArgs[] }): Promise<{ outputs: string[] }> {
    const outputs: string[] = [];
    for (const c of args.cases) outputs.push((await runSmallOp(ctx, c)).output);
    return { outputs };
  },
};
