import { layerMacs } from '../ir/summary.js';
import { integerOperator } from '../runtime/operators.js';
import type { LayerQuant } from '../quant/config.js';
import { paramBits, SCALED_PARAM_BITS } from '../quant/cost.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { weightLanes, type LayerTimes } from './sensitivity.js';
import type { Assignment } from './space.js';

/**
 * What a search minimises: size, bit-operations, GPU time, or size and
 * bit-operations together (the sum of their fractions of int8 everywhere,
 * for a config that must save both).
 */
export type Objective = 'size' | 'bops' | 'size+bops' | 'gpu-time';
export const OBJECTIVES: readonly Objective[] = ['size', 'bops', 'size+bops', 'gpu-time'];

/** One integer convolution or dense layer, as the cost model sees it. */
interface MatmulCost {
  readonly name: string;
  readonly weights: number;
  readonly biases: number;
  /** Requantization parameter bits (see paramBits), fixed by the base setting. */
  readonly paramBits: number;
  readonly macs: number;
  /** The layer whose activation bits its input carries (see `inputOwners`). */
  readonly inputOwner: string;
}

/**
 * The cost model of `costReport` (src/quant/cost.ts) as arithmetic on an
 * assignment, without quantizing: what a search evaluates thousands of
 * times. Only integer convolution and dense layers change with the bits
 * (size: weights x weight bits; bit-operations: MACs x weight bits x the
 * bits of the activations they read); everything else is a constant taken
 * from the reference. A test holds it equal to `costReport`.
 */
export class CostModel {
  private readonly layers: MatmulCost[];
  private readonly fixedBits: number;
  readonly int8Bytes: number;
  readonly int8Bops: number;

  constructor(
    reference: QuantizedGraph,
    private readonly base: LayerQuant,
    private readonly times?: LayerTimes,
  ) {
    const g = reference.float;
    const shape = (n: string) => g.shapes.get(n) ?? [];
    const owners = inputOwners(reference);
    this.layers = [];
    let fixed = 0;
    let int8Bits = 0;
    let int8Bops = 0;
    const matmuls = new Map(reference.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [[l.name, l] as const] : [])));
    for (const layer of g.layers) {
      const params = layer.inputs.filter((i) => g.constants.has(i)).map((i) => g.constants.get(i)!.data.length);
      const weights = params[0] ?? 0;
      const biases = params.slice(1).reduce((a, b) => a + b, 0);
      const macs = layerMacs(layer, layer.inputs.map(shape), layer.outputs.map(shape)) ?? 0;
      const matmul = layer.op === 'conv' || layer.op === 'dense';
      const channelParamBits = matmul ? g.constants.get(layer.inputs[1]!)!.shape[0]! * SCALED_PARAM_BITS : 0;
      int8Bits += weights * 8 + biases * 32 + channelParamBits;
      int8Bops += macs * 64;
      const q = matmuls.get(layer.name);
      if (q) this.layers.push({ name: layer.name, weights, biases, paramBits: paramBits(q, base), macs, inputOwner: owners.get(layer.name)! });
      else fixed += (weights + biases) * 32;
    }
    this.fixedBits = fixed;
    this.int8Bytes = int8Bits / 8;
    this.int8Bops = int8Bops;
  }

  /** Bytes of weights, biases and parameters. */
  sizeBytes(a: Assignment): number {
    let bits = this.fixedBits;
    for (const l of this.layers) bits += l.weights * this.wBits(a, l.name) + l.biases * (a.biasBits?.[l.name] ?? this.base.biasBits) + l.paramBits;
    return bits / 8;
  }

  /** Bit-operations per image. */
  bops(a: Assignment): number {
    let total = 0;
    for (const l of this.layers) total += l.macs * this.wBits(a, l.name) * (a.activations[l.inputOwner] ?? this.base.activationBits);
    return total;
  }

  /** GPU milliseconds per image of the integer convolution and dense layers, by their weights' lanes (needs the profiled times). */
  gpuMs(a: Assignment): number {
    if (!this.times) throw new Error('CostModel.gpuMs: no GPU layer times were given');
    let total = 0;
    for (const l of this.layers) total += this.times[weightLanes(this.wBits(a, l.name))]?.[l.name] ?? this.times[8]?.[l.name] ?? 0;
    return total;
  }

  cost(a: Assignment, objective: Objective): number {
    switch (objective) {
      case 'size':
        return this.sizeBytes(a);
      case 'bops':
        return this.bops(a);
      case 'size+bops':
        return this.sizeBytes(a) / this.int8Bytes + this.bops(a) / this.int8Bops;
      case 'gpu-time':
        return this.gpuMs(a);
    }
  }

  /**
   * The objective's cost as a fraction of int8 everywhere's (per-channel
   * scaled 8-bit weights and activations, 32-bit biases): size and
   * bit-operations against `int8Bytes` and `int8Bops`, size+bops their mean,
   * GPU time against the 8-bit base's (the profiles time no other int8).
   */
  vsInt8(a: Assignment, objective: Objective): number {
    switch (objective) {
      case 'size':
        return this.sizeBytes(a) / this.int8Bytes;
      case 'bops':
        return this.bops(a) / this.int8Bops;
      case 'size+bops':
        return (this.sizeBytes(a) / this.int8Bytes + this.bops(a) / this.int8Bops) / 2;
      case 'gpu-time':
        return this.gpuMs(a) / this.gpuMs({ weights: {}, activations: {} });
    }
  }

  private wBits(a: Assignment, layer: string): number {
    return a.weights[layer] ?? this.base.weightBits;
  }
}

/**
 * For each integer convolution and dense layer, the layer whose activation
 * bits its input carries: the producer of the input, through pools and data
 * movement (which keep their input's parameters); for an input quantized
 * from float (the network's input), the first layer that reads it, whose
 * setting quantizes it (see quantizeGraph).
 */
export function inputOwners(qg: QuantizedGraph): Map<string, string> {
  const producer = new Map<string, (typeof qg.layers)[number]>();
  for (const l of qg.layers) for (const o of l.outputs) if (l.kind !== 'dequantize') producer.set(o, l);
  const firstReader = new Map<string, string>();
  for (const l of qg.layers) for (const i of l.inputs) if (l.kind !== 'quantize' && !firstReader.has(i)) firstReader.set(i, l.name);
  const owner = (tensor: string): string => {
    for (let t = tensor, guard = 0; guard < 10_000; guard++) {
      const p = producer.get(t);
      if (!p) return firstReader.get(tensor) ?? '';
      if (p.kind === 'quantize') return firstReader.get(t) ?? '';
      if (p.kind !== 'float' && integerOperator(p)?.keepsParams === true) {
        t = p.inputs[0]!;
        continue;
      }
      return p.name;
    }
    return '';
  };
  const out = new Map<string, string>();
  for (const l of qg.layers) if (l.kind === 'conv' || l.kind === 'dense') out.set(l.name, owner(l.inputs[0]!));
  return out;
}
