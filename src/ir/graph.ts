import { ModelFormatError } from '../errors.js';
import type { Layer } from './layers.js';
import type { Shape } from './shape.js';
import type { EqualizationSummary } from './passes/cross-layer-equalization.js';

/** A constant float tensor (weights, biases, broadcast operands). */
export interface Constant {
  shape: number[];
  data: Float32Array;
}

export interface TensorInfo {
  name: string;
  shape: Shape;
}

export interface Graph {
  name: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Topologically ordered. */
  layers: Layer[];
  constants: Map<string, Constant>;
  /** Inferred shape of every tensor (inputs, layer outputs, constants). */
  shapes: Map<string, Shape>;
  /** Set once cross-layer equalization rescaled the weights: what it did (see prepareForQuantization). */
  equalization?: EqualizationSummary;
}

/**
 * Order layers so that each runs after the producers of its inputs (Kahn's
 * algorithm, stable with respect to the given order). Throws on a cycle or on
 * an input that nothing produces.
 */
export function topoSort(layers: readonly Layer[], available: ReadonlySet<string>): Layer[] {
  const producer = new Map<string, number>();
  layers.forEach((l, i) => {
    for (const o of l.outputs) {
      if (producer.has(o) || available.has(o)) {
        throw new ModelFormatError(`tensor '${o}' is produced twice (second time by '${l.name}')`);
      }
      producer.set(o, i);
    }
  });
  const pending = new Array<number>(layers.length).fill(0);
  const consumers: number[][] = layers.map(() => []);
  layers.forEach((l, i) => {
    for (const inp of l.inputs) {
      if (inp === '' || available.has(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined) {
        throw new ModelFormatError(`layer '${l.name}' reads '${inp}', which is neither an input, a constant nor produced by any layer`);
      }
      pending[i]!++;
      consumers[p]!.push(i);
    }
  });
  const ready: number[] = [];
  pending.forEach((n, i) => n === 0 && ready.push(i));
  const order: Layer[] = [];
  // Pop the smallest index first so that an already sorted graph keeps its order.
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(layers[i]!);
    for (const c of consumers[i]!) if (--pending[c]! === 0) ready.push(c);
  }
  if (order.length !== layers.length) {
    const stuck = layers.filter((_, i) => pending[i]! > 0).map((l) => l.name);
    throw new ModelFormatError(`the graph has a cycle through ${stuck.slice(0, 5).map((s) => `'${s}'`).join(', ')}`);
  }
  return order;
}

/** Number of layers reading each tensor (graph outputs count as one reader). */
export function consumerCounts(graph: Pick<Graph, 'layers' | 'outputs'>): Map<string, number> {
  const n = new Map<string, number>();
  for (const l of graph.layers) for (const i of l.inputs) n.set(i, (n.get(i) ?? 0) + 1);
  for (const o of graph.outputs) n.set(o.name, (n.get(o.name) ?? 0) + 1);
  return n;
}
