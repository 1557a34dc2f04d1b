/**
 * The host-side shape every kernel's plan has (STYLE.md point 5): a pure
 * `plan...()` gives the variant (what changes the shader), the dispatch, the
 * uniform values by WGSL field name and the buffer of each binding by its WGSL
 * name; `prepareKernel` then builds the uniform and constant buffers and the
 * bind group once, and `encode` only records the dispatch.
 */
import { createBindGroup } from '../bind-group.js';
import type { BufferTracker } from '../buffer-tracker.js';
import { BufferUsage } from '../flags.js';
import type { CompiledKernel, KernelSource, KernelVariant } from '../pipeline-cache.js';
import { writeUniforms, type UniformValues } from '../reflect.js';
import { composeShader, type ShaderFile } from '../shader-parts.js';
import { WORKGROUP_SIZE } from './dispatch.js';

/** What a binding holds: a tensor of the graph (read or written), or constant data made at plan time. */
export type BufferRole =
  | { readonly role: 'input'; readonly tensor: string }
  | { readonly role: 'output'; readonly tensor: string; readonly bytes: number }
  | { readonly role: 'constant'; readonly data: Int32Array | Uint32Array | Float32Array };

export interface KernelPlan<V extends KernelVariant = KernelVariant> {
  readonly variant: V;
  readonly dispatch: readonly [number, number, number];
  /** Values of each uniform struct, by the uniform binding's name, then by field name. */
  readonly uniforms: Readonly<Record<string, UniformValues>>;
  /** Every storage binding, by its WGSL name. */
  readonly buffers: Readonly<Record<string, BufferRole>>;
}

/**
 * A one-thread-per-item kernel: grid.wgsl (WORKGROUP_SIZE, flat_index), WGSL
 * parts from shaders/, and for the entry point `main` grid_main.wgsl, which
 * calls the parts' `item_count()` and `item(i)`; with WORKGROUP_SIZE and the
 * variant's other overrides.
 */
export function gridKernel<V extends KernelVariant>(
  parts: readonly ShaderFile[],
  entryPoint: string,
  constants: (v: V) => Readonly<Record<string, number>> = () => ({}),
): KernelSource<V> {
  const main: ShaderFile[] = entryPoint === 'main' ? ['grid_main.wgsl'] : [];
  return { shader: () => composeShader(['grid.wgsl', ...parts, ...main]), entryPoint, constants: (v) => ({ WORKGROUP_SIZE, ...constants(v) }) };
}

export interface PreparedKernel {
  /** Records the dispatch into an open compute pass. */
  encode(pass: GPUComputePassEncoder): void;
  /** Destroys the uniform and constant buffers made for the op. */
  destroy(): void;
}

/**
 * Uniform and constant buffers (through `tracker`) and the bind group of one
 * planned op; `tensors` gives the buffer of each tensor the plan names.
 */
export function prepareKernel(tracker: BufferTracker, kernel: CompiledKernel, plan: KernelPlan, tensors: Readonly<Record<string, GPUBuffer>>): PreparedKernel {
  const made: GPUBuffer[] = [];
  try {
    const resources: Record<string, GPUBuffer> = {};
    for (const [name, values] of Object.entries(plan.uniforms)) {
      const layout = kernel.reflection.uniforms[name];
      if (layout === undefined) throw new Error(`${kernel.label}: no uniform '${name}'`);
      const buffer = tracker.createWithData(`${kernel.label}:${name}`, BufferUsage.UNIFORM, new Uint8Array(writeUniforms(layout, values)));
      made.push(buffer);
      resources[name] = buffer;
    }
    for (const [name, role] of Object.entries(plan.buffers)) {
      if (role.role === 'constant') {
        const buffer = tracker.createWithData(`${kernel.label}:${name}`, BufferUsage.STORAGE, role.data);
        made.push(buffer);
        resources[name] = buffer;
      } else {
        const buffer = tensors[role.tensor];
        if (buffer === undefined) throw new Error(`${kernel.label}: binding '${name}' needs tensor '${role.tensor}', which has no buffer`);
        resources[name] = buffer;
      }
    }
    const bindGroup = createBindGroup(tracker.device, kernel, 0, resources);
    return {
      encode(pass) {
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(...plan.dispatch);
      },
      destroy() {
        for (const b of made) b.destroy();
      },
    };
  } catch (e) {
    for (const b of made) b.destroy();
    throw e;
  }
}
