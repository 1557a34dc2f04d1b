/**
 * GPU test programs of the igemm kernel. The test process makes the plan
 * (planConv is pure) and the input words; the program only uploads, runs and
 * reads back, so both hosts run exactly the same plan.
 */
import { runConv, type ConvPlan } from '../../../src/gpu/ops/conv.js';
import { decodeInt32, encodeInt32 } from './codec.js';
import type { ProgramContext } from './programs.js';
import { POISON } from './poison.js';

type BufferName = keyof ConvPlan['buffers'];

/** A plan as JSON: the typed arrays as base64 int32. */
export type WirePlan = Omit<ConvPlan, 'buffers'> & { readonly buffers: Readonly<Record<BufferName, string>> };

export interface IgemmArgs {
  readonly plan: WirePlan;
  /** Base64 of the input words (NHWC 8-bit lanes). */
  readonly input: string;
}

const asInt32 = (a: Uint32Array | Int32Array): Int32Array => new Int32Array(a.buffer, a.byteOffset, a.length);
const asUint32 = (a: Int32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

export function igemmArgs(plan: ConvPlan, input: Uint32Array): IgemmArgs {
  const b = plan.buffers;
  return {
    plan: { ...plan, buffers: { weights: encodeInt32(asInt32(b.weights)), bias: encodeInt32(b.bias), m0: encodeInt32(b.m0), shift: encodeInt32(b.shift) } },
    input: encodeInt32(asInt32(input)),
  };
}

export const igemmPrograms = {
  /** Runs one planned layer on the input; the output (poisoned first) as base64 words. */
  async igemm(ctx: ProgramContext, args: IgemmArgs): Promise<{ output: string }> {
    const w = args.plan.buffers;
    const plan: ConvPlan = {
      ...args.plan,
      buffers: { weights: asUint32(decodeInt32(w.weights)), bias: decodeInt32(w.bias), m0: decodeInt32(w.m0), shift: decodeInt32(w.shift) },
    };
    const output = await runConv(ctx.cache, ctx.tracker, plan, asUint32(decodeInt32(args.input)), POISON);
    return { output: encodeInt32(asInt32(output)) };
  },
};
