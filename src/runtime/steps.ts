/**
 * The command graph of a session, before any GPU object exists: tensors (by
 * key: the domain, `f:` float32 NCHW or `i:` packed 8-bit lanes, then the
 * graph's name, since a quantize step writes the integer tensor of the name
 * it reads) and steps (one dispatch each, in order). Pure data: the memory
 * planner and the session turn it into buffers, bind groups and passes.
 */
import type { KernelSource, KernelVariant } from '../gpu/pipeline-cache.js';
import type { KernelPlan } from '../gpu/ops/kernel-plan.js';
import type { QParams } from '../quant/qparams.js';

export type Domain = 'f' | 'i';

export function tensorKey(domain: Domain, name: string): string {
  return `${domain}:${name}`;
}

export interface TensorSpec {
  readonly key: string;
  readonly shape: readonly number[];
  readonly bytes: number;
  /** Integer tensors: their parameters (the lane offset and the codes' meaning). */
  readonly params?: QParams;
  /** A tensor that is another one's words under a new shape (a flatten of [N, C, 1, 1]): it has no storage of its own. */
  readonly aliasOf?: string;
  /** Float constants read as tensors (an operand of a float island): uploaded once. */
  readonly constant?: Float32Array;
}

export interface Step {
  /** The layer it runs (a concat of k inputs is k steps of one layer). */
  readonly layer: string;
  /** What it does, for profiles: e.g. `conv 3x3/2`, `dense`, `quantize`. */
  readonly op: string;
  readonly kernel: KernelSource<KernelVariant>;
  /** Buffer roles name tensor keys. */
  readonly plan: KernelPlan;
  /** Multiply-accumulates of the step (0 where there are none). */
  readonly macs: number;
  /** Weight and activation bits, e.g. `w4a8`, or `f32`. */
  readonly bits: string;
}

export interface GraphIo {
  readonly name: string;
  readonly key: string;
  readonly shape: readonly number[];
}

export interface CommandGraph {
  readonly steps: readonly Step[];
  readonly tensors: ReadonlyMap<string, TensorSpec>;
  readonly inputs: readonly GraphIo[];
  /** Float outputs; `integer` names the integer tensor a quantized output was dequantized from. */
  readonly outputs: readonly (GraphIo & { readonly integer?: GraphIo & { readonly params: QParams } })[];
}

/** A plan whose buffer roles name graph tensors, rewritten to name tensor keys of the given domains. */
export function keyed<V extends KernelVariant>(plan: KernelPlan<V>, inputs: Domain, outputs: Domain): KernelPlan<V> {
  const buffers: KernelPlan['buffers'] = Object.fromEntries(
    Object.entries(plan.buffers).map(([name, role]) => [
      name,
      role.role === 'input' ? { ...role, tensor: tensorKey(inputs, role.tensor) } : role.role === 'output' ? { ...role, tensor: tensorKey(outputs, role.tensor) } : role,
    ]),
  );
  return { ...plan, buffers };
}
