/**
 * Host side of shaders/test/requant_test.wgsl: one pipeline variant per
 * primitive of requant.wgsl, applied to a batch of cases. Built the way real
 * kernels will be: parts composed by name, bindings and the uniform struct
 * from reflection, overrides through the pipeline cache, buffers through a
 * tracker, the output poisoned.
 */
import { createBindGroup } from '../../../src/gpu/bind-group.js';
import type { BufferTracker } from '../../../src/gpu/buffer-tracker.js';
import { BufferUsage } from '../../../src/gpu/flags.js';
import type { KernelSource, PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import { readBuffer } from '../../../src/gpu/readback.js';
import { writeUniforms } from '../../../src/gpu/reflect.js';
import { composeShader } from '../../../src/gpu/shader-parts.js';
import { createPoisonedBuffer } from '../harness/poison.js';

/** The primitives, in the order of requant_test.wgsl's `switch PRIMITIVE` cases. */
export const PRIMITIVES = ['high_mul', 'rounding_shift', 'saturating_left_shift', 'multiply_by_quantized_multiplier', 'requantize', 'round_quotient', 'exact_round_quotient', 'round_quotient_off'] as const;
export type Primitive = (typeof PRIMITIVES)[number];

/** Int32 arguments per case (struct Case in the shader); a primitive uses the first ones it takes. */
export const ARGS_PER_CASE = 6;

export interface RequantTestVariant {
  readonly kernel: 'requant_test';
  readonly primitive: Primitive;
  readonly workgroupSize: number;
}

export const requantTestKernel: KernelSource<RequantTestVariant> = {
  shader: () => composeShader(['requant.wgsl', 'quotient.wgsl', 'test/requant_test.wgsl']),
  entryPoint: 'main',
  constants: (v) => ({ PRIMITIVE: PRIMITIVES.indexOf(v.primitive), WORKGROUP_SIZE: v.workgroupSize }),
};

const WORKGROUP_SIZE = 64;

/**
 * Applies `primitive` to each case (ARGS_PER_CASE int32 each) and returns one
 * int32 per case. `count` (default: all) is what the kernel is told to
 * process; a smaller count leaves the rest of the output poisoned, which the
 * harness's own test uses. All buffers are destroyed before returning.
 */
export async function runRequantPrimitive(
  cache: PipelineCache,
  tracker: BufferTracker,
  primitive: Primitive,
  cases: Int32Array,
  count?: number,
): Promise<Int32Array> {
  const n = cases.length / ARGS_PER_CASE;
  if (!Number.isInteger(n) || n === 0) throw new Error(`runRequantPrimitive: ${cases.length} arguments is not a positive multiple of ${ARGS_PER_CASE}`);
  const device = tracker.device;
  const workgroups = Math.ceil(n / WORKGROUP_SIZE);
  if (workgroups > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`runRequantPrimitive: ${n} cases need ${workgroups} workgroups, above maxComputeWorkgroupsPerDimension; send fewer per run`);
  }
  const kernel = await cache.get(requantTestKernel, { kernel: 'requant_test', primitive, workgroupSize: WORKGROUP_SIZE });
  const uniformLayout = kernel.reflection.uniforms['params'];
  if (uniformLayout === undefined) throw new Error(`${kernel.label}: no uniform 'params'`);

  const buffers: GPUBuffer[] = [];
  try {
    const params = tracker.createWithData('requant_test:params', BufferUsage.UNIFORM, new Uint8Array(writeUniforms(uniformLayout, { count: count ?? n })));
    buffers.push(params);
    const input = tracker.createWithData('requant_test:cases', BufferUsage.STORAGE, cases);
    buffers.push(input);
    const results = createPoisonedBuffer(tracker, 'requant_test:results', BufferUsage.STORAGE | BufferUsage.COPY_SRC, n * 4);
    buffers.push(results);

    const bindGroup = createBindGroup(device, kernel, 0, { params, cases: input, results });
    const encoder = device.createCommandEncoder({ label: kernel.label });
    const pass = encoder.beginComputePass({ label: kernel.label });
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups);
    pass.end();
    device.queue.submit([encoder.finish()]);
    return new Int32Array(await readBuffer(tracker, results, n * 4));
  } finally {
    for (const b of buffers) b.destroy();
  }
}
