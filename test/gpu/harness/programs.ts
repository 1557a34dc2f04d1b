/**
 * The GPU test programs, one registry for both hosts: the page exposes them as
 * window.quantgpuTest.run(name, args) and the Node host calls them directly,
 * so the browser and Node run the same code on the same inputs. Arguments and
 * results are JSON (int32 arrays as base64), since they cross into a page.
 */
import type { AdapterFacts } from '../../../src/gpu/adapter-info.js';
import type { BufferTracker } from '../../../src/gpu/buffer-tracker.js';
import type { Gpu } from '../../../src/gpu/device.js';
import { BufferUsage } from '../../../src/gpu/flags.js';
import type { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import { requantTestKernel, runRequantPrimitive, type Primitive } from '../kernels/requant-test-kernel.js';
import { decodeInt32, encodeInt32 } from './codec.js';
import { kernelPrograms } from './programs-kernels.js';

export interface ProgramContext {
  readonly gpu: Gpu;
  readonly cache: PipelineCache;
  /** Makes the buffers a program needs (the run's checks, src/host/gpu-checks.ts, see every buffer made, through it or not). */
  readonly tracker: BufferTracker;
}

export interface RequantArgs {
  readonly primitive: Primitive;
  /** Base64 int32, ARGS_PER_CASE per case. */
  readonly cases: string;
  /** Cases the kernel is told to process (default all): fewer leaves poisoned outputs. */
  readonly count?: number;
}

export const programs = {
  ...kernelPrograms,
  async adapterFacts(ctx: ProgramContext, _args: null): Promise<AdapterFacts> {
    return ctx.gpu.facts;
  },

  async requant(ctx: ProgramContext, args: RequantArgs): Promise<{ results: string }> {
    const results = await runRequantPrimitive(ctx.cache, ctx.tracker, args.primitive, decodeInt32(args.cases), args.count);
    return { results: encodeInt32(results) };
  },

  /**
   * The pipeline cache: one pipeline for equal variants whatever their key
   * order, a new one for a changed field, and an unknown override refused by name.
   */
  async pipelineCache(
    ctx: ProgramContext,
    _args: null,
  ): Promise<{ sameObject: boolean; addedByEqualVariant: number; addedByChangedField: number; keptAfterFailure: number; labels: string[]; unknownOverride: string }> {
    const v64 = { kernel: 'requant_test', primitive: 'high_mul', workgroupSize: 64 } as const;
    const a = await ctx.cache.get(requantTestKernel, v64);
    const afterA = ctx.cache.size;
    const b = await ctx.cache.get(requantTestKernel, { workgroupSize: 64, primitive: 'high_mul', kernel: 'requant_test' });
    const afterB = ctx.cache.size;
    const c = await ctx.cache.get(requantTestKernel, { ...v64, workgroupSize: 32 });
    const afterC = ctx.cache.size;
    let unknownOverride = '';
    try {
      await ctx.cache.get({ ...requantTestKernel, constants: () => ({ PRIMITIVE: 0, TILE: 8 }) }, { ...v64, workgroupSize: 16 });
    } catch (e) {
      unknownOverride = (e as Error).message;
    }
    return {
      sameObject: a === b && a.pipeline === b.pipeline,
      addedByEqualVariant: afterB - afterA,
      addedByChangedField: afterC - afterB,
      keptAfterFailure: ctx.cache.size - afterC,
      labels: [a.label, c.label],
      unknownOverride,
    };
  },

  /**
   * A WGSL compile error surfaces as an error naming the variant and the file
   * and line of the part at fault. The broken shader is the test kernel with
   * one call given too few arguments.
   */
  async compileError(ctx: ProgramContext, _args: null): Promise<{ message: string; name: string; location: string }> {
    const broken: typeof requantTestKernel = {
      ...requantTestKernel,
      shader: (v) => {
        const good = requantTestKernel.shader(v);
        return { ...good, code: good.code.replace('high_mul(k.a, k.b)', 'high_mul(k.a)') };
      },
    };
    try {
      await ctx.cache.get(broken, { kernel: 'requant_test', primitive: 'high_mul', workgroupSize: 8 });
      return { message: '', name: '', location: '' };
    } catch (e) {
      return { message: (e as Error).message, name: (e as Error).name, location: (e as { location?: string }).location ?? '' };
    }
  },

  // Programs that break the rules on purpose, to show the harness notices.

  /** Makes a buffer with device.createBuffer directly and never destroys it. */
  async leakBuffer(ctx: ProgramContext, args: { label: string }): Promise<null> {
    ctx.gpu.device.createBuffer({ label: args.label, size: 16, usage: BufferUsage.STORAGE });
    return null;
  },

  /** Asks for a buffer with usages WebGPU forbids together (MAP_READ with STORAGE): a validation error. */
  async invalidBuffer(ctx: ProgramContext, _args: null): Promise<null> {
    const buffer = ctx.gpu.device.createBuffer({ label: 'invalid-usage', size: 16, usage: BufferUsage.MAP_READ | BufferUsage.STORAGE });
    buffer.destroy();
    return null;
  },
} satisfies Record<string, (ctx: ProgramContext, args: never) => Promise<unknown>>;

export type ProgramName = keyof typeof programs;
export type ProgramArgs<N extends ProgramName> = Parameters<(typeof programs)[N]>[1];
export type ProgramResult<N extends ProgramName> = Awaited<ReturnType<(typeof programs)[N]>>;
