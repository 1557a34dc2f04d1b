import { InputError } from '../../errors.js';
import type { QParams } from '../../quant/qparams.js';
import type { QLayer, QuantizedGraph } from '../../quant/quantized-graph.js';
import { integerOpName, integerOperator } from '../../runtime/operators.js';
import { bindInputs, drain } from '../float-executor.js';
import { runLayer } from '../run-layer.js';
import { requireFinite, type Tensor } from '../tensor.js';

export interface GoldenResult {
  /** Float outputs (dequantized logits, or the float tail's outputs). */
  outputs: Record<string, Tensor>;
  /** The integer tensors the outputs were dequantized from, by output name. */
  integers: Record<string, Int32Array>;
}

export interface GoldenOptions {
  /** Called with every integer tensor as it is produced (per-layer comparisons, SQNR). */
  onInteger?: (name: string, t: Tensor, params: QParams) => void;
}

/** A layer about to run, with its inputs in its operator's domain (see `goldenSteps`). */
export interface GoldenStep {
  index: number;
  layer: QLayer;
  inputs: readonly Tensor[];
}

/**
 * The integer golden executor: every layer with exactly the integer steps the
 * shaders run, each its operator's golden function. Integer tensors live in
 * Float32Arrays (their values are exact integers below 2^24).
 */
export function runQuantized(qg: QuantizedGraph, inputs: Readonly<Record<string, Tensor>>, options: GoldenOptions = {}): GoldenResult {
  return drain(goldenSteps(qg, inputs, options));
}

/**
 * `runQuantized` one layer at a time: yields each layer with its inputs
 * before it runs, and runs it when resumed. The layer that runs is read from
 * `qg.layers` at that moment, so a caller may replace a layer it has not yet
 * resumed (AdaRound puts in each layer's learned weights just before it runs).
 * Tensors are dropped after their last reader.
 */
export function* goldenSteps(qg: QuantizedGraph, inputs: Readonly<Record<string, Tensor>>, options: GoldenOptions = {}): Generator<GoldenStep, GoldenResult> {
  const bindings = bindInputs(qg.float, inputs);
  for (const i of qg.inputs) requireFinite(inputs[i.name]!.data, `input '${i.name}'`, inputs[i.name]!.data.length / (inputs[i.name]!.shape[0] || 1));
  const floats = new Map<string, Tensor>();
  const ints = new Map<string, Tensor>();
  for (const i of qg.inputs) floats.set(i.name, inputs[i.name]!);
  for (const [name, c] of qg.constants) floats.set(name, { shape: c.shape, data: c.data });
  const P = (t: string): QParams => qg.tensors.get(t)!;
  const int = (t: string): Tensor => {
    const v = ints.get(t);
    if (!v) throw new InputError(`golden executor: integer tensor '${t}' is missing`);
    return v;
  };
  // Integer and float versions of a tensor share its name: both go after the name's last reader.
  const lastUse = new Map<string, number>();
  qg.layers.forEach((l, i) => l.inputs.forEach((n) => lastUse.set(n, i)));
  const keep = new Set(qg.outputs.flatMap((o) => (o.integer ? [o.name, o.integer] : [o.name])));
  for (let li = 0; li < qg.layers.length; li++) {
    const planned = qg.layers[li]!;
    const op = planned.kind === 'float' ? undefined : integerOperator(planned);
    if (planned.kind !== 'float' && op === undefined) throw new InputError(`golden executor: layer '${planned.name}' (${integerOpName(planned)}) has no integer operator`);
    const ins = planned.inputs.map((i) => (op === undefined || op.domains.input === 'f' ? floats.get(i)! : int(i)));
    yield { index: li, layer: planned, inputs: ins };
    const layer = qg.layers[li]!;
    if (layer.kind === 'float' || op === undefined) {
      const res = runLayer((layer as Extract<QLayer, { kind: 'float' }>).layer, ins, bindings);
      layer.outputs.forEach((o, k) => floats.set(o, res[k]!));
    } else {
      // The operator table (src/runtime/operators.ts) holds each integer layer's golden function.
      const out = layer.outputs[0]!;
      const result = op.golden(layer, ins, { params: P, bindings });
      if (op.domains.output === 'f') floats.set(out, result);
      else {
        ints.set(out, result);
        options.onInteger?.(out, result, P(out));
      }
    }
    for (const n of layer.inputs) {
      if (lastUse.get(n) === li && !keep.has(n) && !qg.constants.has(n)) {
        floats.delete(n);
        ints.delete(n);
      }
    }
  }
  const outputs: Record<string, Tensor> = {};
  const integers: Record<string, Int32Array> = {};
  for (const o of qg.outputs) {
    outputs[o.name] = floats.get(o.name)!;
    if (o.integer) integers[o.name] = Int32Array.from(int(o.integer).data);
  }
  return { outputs, integers };
}
