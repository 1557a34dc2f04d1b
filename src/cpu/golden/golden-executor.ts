import { InputError } from '../../errors.js';
import type { QParams } from '../../quant/qparams.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { integerOpName, integerOperator } from '../../runtime/operators.js';
import { bindInputs } from '../float-executor.js';
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

/**
 * The integer golden executor: every layer with exactly the integer steps the
 * shaders run, each its operator's golden function. Integer tensors live in
 * Float32Arrays (their values are exact integers below 2^24).
 */
export function runQuantized(qg: QuantizedGraph, inputs: Readonly<Record<string, Tensor>>, options: GoldenOptions = {}): GoldenResult {
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
  for (const layer of qg.layers) {
    const out = layer.outputs[0]!;
    if (layer.kind === 'float') {
      const res = runLayer(layer.layer, layer.inputs.map((i) => floats.get(i)!), bindings);
      layer.outputs.forEach((o, k) => floats.set(o, res[k]!));
      continue;
    }
    // The operator table (src/runtime/operators.ts) holds each integer layer's golden function.
    const op = integerOperator(layer);
    if (op === undefined) throw new InputError(`golden executor: layer '${layer.name}' (${integerOpName(layer)}) has no integer operator`);
    const inputs = layer.inputs.map((i) => (op.domains.input === 'f' ? floats.get(i)! : int(i)));
    const result = op.golden(layer, inputs, { params: P, bindings });
    if (op.domains.output === 'f') {
      floats.set(out, result);
      continue;
    }
    ints.set(out, result);
    options.onInteger?.(out, result, P(out));
  }
  const outputs: Record<string, Tensor> = {};
  const integers: Record<string, Int32Array> = {};
  for (const o of qg.outputs) {
    outputs[o.name] = floats.get(o.name)!;
    if (o.integer) integers[o.name] = Int32Array.from(int(o.integer).data);
  }
  return { outputs, integers };
}
