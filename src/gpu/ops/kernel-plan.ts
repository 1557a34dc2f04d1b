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

/**
 * Bytes [offset, offset + bytes) of a tensor: what a step binds of a tensor
 * larger than the adapter binds at once (src/gpu/ops/pieces.ts), the offset a
 * multiple of minStorageBufferOffsetAlignment.
 */
export interface ByteRange {
  readonly offset: number;
  readonly bytes: number;
}

/**
 * What a binding holds: a tensor of the graph (read or written; the whole of
 * it, or a range), or constant data made at plan time.
 */
export type BufferRole =
  | { readonly role: 'input'; readonly tensor: string; readonly range?: ByteRange }
  | { readonly role: 'output'; readonly tensor: string; readonly bytes: number; readonly range?: ByteRange }
  | { readonly role: 'constant'; readonly data: Int32Array | Uint32Array | Float32Array; readonly range?: ByteRange };

/** Constant buffers by their data: steps that share an array (the pieces of one layer) share its buffer. */
export type ConstantBuffers = Map<Int32Array | Uint32Array | Float32Array, GPUBuffer>;

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
 * planned op; `tensors` gives the buffer of each tensor the plan names (a
 * whole buffer, or the part of one that holds the tensor), of which a role
 * with a range binds that range. Constant buffers found in `shared` are
 * reused, and those made are put there, owned by its keeper rather than by
 * the op; without it, each op owns its own.
 */
export function prepareKernel(tracker: BufferTracker, kernel: CompiledKernel, plan: KernelPlan, tensors: Readonly<Record<string, GPUBuffer | GPUBufferBinding>>, shared?: ConstantBuffers): PreparedKernel {
  const made: GPUBuffer[] = [];
  try {
    const resources: Record<string, GPUBuffer | GPUBufferBinding> = {};
    for (const [name, values] of Object.entries(plan.uniforms)) {
      const layout = kernel.reflection.uniforms[name];
      if (layout === undefined) throw new Error(`${kernel.label}: no uniform '${name}'`);
      const buffer = tracker.createWithData(`${kernel.label}:${name}`, BufferUsage.UNIFORM, new Uint8Array(writeUniforms(layout, values)));
      made.push(buffer);
      resources[name] = buffer;
    }
    for (const [name, role] of Object.entries(plan.buffers)) {
      if (role.role === 'constant') {
        let buffer = shared?.get(role.data);
        if (buffer === undefined) {
          buffer = tracker.createWithData(`${kernel.label}:${name}`, BufferUsage.STORAGE, role.data);
          if (shared !== undefined) shared.set(role.data, buffer);
          else made.push(buffer);
        }
        resources[name] = role.range === undefined ? buffer : rangeOf(buffer, role.range);
      } else {
        const buffer = tensors[role.tensor];
        if (buffer === undefined) throw new Error(`${kernel.label}: binding '${name}' needs tensor '${role.tensor}', which has no buffer`);
        resources[name] = role.range === undefined ? buffer : rangeOf(buffer, role.range);
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

/** The part `range` of a tensor's binding (a whole buffer, or the part of one holding the tensor). */
function rangeOf(tensor: GPUBuffer | GPUBufferBinding, range: ByteRange): GPUBufferBinding {
  const [buffer, offset] = 'buffer' in tensor ? [tensor.buffer, tensor.offset ?? 0] : [tensor, 0];
  return { buffer, offset: offset + range.offset, size: range.bytes };
}
