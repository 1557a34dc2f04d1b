import { ShapeError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { bindInputShapes } from '../ir/bind-input-shapes.js';
import { formatShape, numel } from '../ir/shape.js';
import { runLayer } from './run-layer.js';
import type { Tensor } from './tensor.js';

export interface RunOptions {
  /** Keep every intermediate tensor in the result (calibration, debugging). */
  keepIntermediates?: boolean;
  /** Called after each layer with its outputs (activation statistics). */
  onLayer?: (layerIndex: number, outputs: readonly Tensor[]) => void;
}

/**
 * Check the given inputs against the graph's declared input shapes (bindInputShapes)
 * and that each one's data fills its shape; returns the symbolic dimensions' values.
 */
export function bindInputs(graph: Graph, inputs: Readonly<Record<string, Tensor>>): Map<string, number> {
  const bindings = bindInputShapes(graph.inputs, Object.fromEntries(Object.entries(inputs).flatMap(([name, t]) => (t === undefined ? [] : [[name, t.shape]]))));
  for (const info of graph.inputs) {
    const t = inputs[info.name]!;
    if (t.data.length !== numel(t.shape)) throw new ShapeError(`input '${info.name}': ${t.data.length} values do not fill shape ${formatShape(t.shape)}`);
  }
  return bindings;
}

/** A layer about to run, with its inputs (see `floatSteps`). */
export interface FloatStep {
  index: number;
  layer: Graph['layers'][number];
  inputs: readonly Tensor[];
}

/**
 * The CPU float executor: the reference of every later stage. Tensors are
 * dropped after their last reader, so memory stays near the widest point of the graph.
 */
export function runGraph(graph: Graph, inputs: Readonly<Record<string, Tensor>>, options: RunOptions = {}): Record<string, Tensor> {
  return drain(floatSteps(graph, inputs, options));
}

/**
 * `runGraph` one layer at a time: yields each layer with its inputs before
 * it runs, and runs it when resumed. A caller that reads one layer's inputs
 * over many batches (AdaRound's layer-by-layer learning) keeps one paused
 * run per batch instead of running the graph's prefix again per layer.
 */
export function* floatSteps(graph: Graph, inputs: Readonly<Record<string, Tensor>>, options: RunOptions = {}): Generator<FloatStep, Record<string, Tensor>> {
  const bindings = bindInputs(graph, inputs);
  const live = new Map<string, Tensor>();
  for (const i of graph.inputs) live.set(i.name, inputs[i.name]!);
  for (const [name, c] of graph.constants) live.set(name, { shape: c.shape, data: c.data });
  const lastUse = new Map<string, number>();
  graph.layers.forEach((l, i) => l.inputs.forEach((n) => lastUse.set(n, i)));
  const outputNames = new Set(graph.outputs.map((o) => o.name));
  const all: Record<string, Tensor> = {};
  for (let li = 0; li < graph.layers.length; li++) {
    const layer = graph.layers[li]!;
    const ins = layer.inputs.map((n) => live.get(n)!);
    yield { index: li, layer, inputs: ins };
    const outs = runLayer(layer, ins, bindings);
    layer.outputs.forEach((o, k) => {
      live.set(o, outs[k]!);
      if (options.keepIntermediates) all[o] = outs[k]!;
    });
    options.onLayer?.(li, outs);
    for (const n of layer.inputs) {
      if (lastUse.get(n) === li && !outputNames.has(n) && !graph.constants.has(n)) live.delete(n);
    }
  }
  const result: Record<string, Tensor> = options.keepIntermediates ? all : {};
  for (const o of graph.outputs) result[o.name] = live.get(o.name)!;
  return result;
}

/** Run a step generator to its end; its return value. */
export function drain<R>(steps: Generator<unknown, R>): R {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
