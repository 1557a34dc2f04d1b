/**
 * Bind groups by binding name: the WGSL declares each binding once, and the
 * host names the buffer for it, so a reordered or renumbered binding cannot
 * silently receive the wrong buffer. A binding without a buffer, or a buffer
 * for no binding, is an error naming it.
 */
import type { CompiledKernel } from './pipeline-cache.js';

export type BindingResources = Readonly<Record<string, GPUBuffer | GPUBufferBinding>>;

export function createBindGroup(device: GPUDevice, kernel: CompiledKernel, group: number, resources: BindingResources): GPUBindGroup {
  const layout = kernel.bindGroupLayouts[group];
  if (layout === undefined) throw new Error(`${kernel.label}: no bind group ${group}`);
  const bindings = kernel.reflection.bindings.filter((b) => b.group === group);
  const names = new Set(bindings.map((b) => b.name));
  const extra = Object.keys(resources).filter((name) => !names.has(name));
  if (extra.length > 0) throw new Error(`${kernel.label}: bind group ${group} has no binding named ${extra.join(', ')}`);
  const entries = bindings.map((b): GPUBindGroupEntry => {
    const resource = resources[b.name];
    if (resource === undefined) throw new Error(`${kernel.label}: binding '${b.name}' (@group(${group}) @binding(${b.binding})) has no buffer`);
    return { binding: b.binding, resource: 'buffer' in resource ? resource : { buffer: resource } };
  });
  return device.createBindGroup({ label: `${kernel.label}:group${group}`, layout, entries });
}
