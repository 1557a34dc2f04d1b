import { layerMacs } from '../ir/summary.js';
import type { LayerQuant } from './config.js';
import type { QMatmulLayer, QuantizedGraph } from './quantized-graph.js';

/**
 * The cost model of the architecture page. Size: weights at their true
 * bitwidth plus biases plus the requantization parameters stored (see paramBits); multiplication cost: MACs x weight bits x
 * activation bits (bit-operations), per image. Float layers count 32 x 32.
 */
export interface CostReport {
  /** Bytes of weights, biases and quantization parameters. */
  sizeBytes: number;
  float32Bytes: number;
  int8Bytes: number;
  /** Bit-operations per image. */
  bops: number;
  int8Bops: number;
  float32Bops: number;
  layers: Array<{ name: string; macs: number; weightBits: number; activationBits: number; sizeBytes: number; bops: number }>;
}

/** Per weight scale of a scaled layer: a float32 weight scale, an int32 multiplier and an 8-bit shift. */
export const SCALED_PARAM_BITS = 32 + 32 + 8;
/** Per weight scale of a power-of-two layer: its fractional bits, an 8-bit shift (the requantization is that shift). */
export const POW2_PARAM_BITS = 8;

/**
 * The requantization parameters a layer stores: one set per weight scale
 * (per output channel, or one for a per-tensor layer), a multiplier and shift for a
 * scaled layer, a shift alone for a power-of-two one. int8 everywhere, the
 * reference, is per channel and scaled.
 */
export function paramBits(q: Pick<QMatmulLayer, 'weightScales'>, setting: Pick<LayerQuant, 'scheme' | 'weightGranularity'> | undefined): number {
  // weightScales has an entry per channel either way; a per-tensor layer stores one set.
  const sets = setting?.weightGranularity === 'per-tensor' ? 1 : q.weightScales.length;
  return sets * (setting?.scheme === 'pow2' ? POW2_PARAM_BITS : SCALED_PARAM_BITS);
}

export function costReport(qg: QuantizedGraph): CostReport {
  const g = qg.float;
  const shape = (n: string) => g.shapes.get(n) ?? [];
  const report: CostReport = { sizeBytes: 0, float32Bytes: 0, int8Bytes: 0, bops: 0, int8Bops: 0, float32Bops: 0, layers: [] };
  const quantized = new Map(qg.layers.filter((l): l is QMatmulLayer => l.kind === 'conv' || l.kind === 'dense').map((l) => [l.name, l]));
  for (const layer of g.layers) {
    const params = layer.inputs.filter((i) => g.constants.has(i)).map((i) => g.constants.get(i)!.data.length);
    const weights = params[0] ?? 0;
    const biases = params.slice(1).reduce((a, b) => a + b, 0);
    const macs = layerMacs(layer, layer.inputs.map(shape), layer.outputs.map(shape)) ?? 0;
    const q = quantized.get(layer.name);
    const s = qg.settings.get(layer.name);
    const matmul = layer.op === 'conv' || layer.op === 'dense';
    const channelParamBits = matmul ? g.constants.get(layer.inputs[1]!)!.shape[0]! * SCALED_PARAM_BITS : 0;
    const qParams = q ? paramBits(q, s !== 'float' ? s : undefined) : 0;
    const wBits = q ? q.weightBits : 32;
    const aBits = q ? qg.tensors.get(q.inputs[0]!)!.bits : 32;
    const biasBits = q && s !== 'float' && s ? s.biasBits : 32;
    const bits = weights * wBits + biases * biasBits + qParams;
    const bops = macs * wBits * aBits;
    report.sizeBytes += bits / 8;
    report.float32Bytes += ((weights + biases) * 32) / 8;
    report.int8Bytes += (weights * 8 + biases * 32 + channelParamBits) / 8;
    report.bops += bops;
    report.int8Bops += macs * 64;
    report.float32Bops += macs * 32 * 32;
    if (macs > 0 || weights > 0) report.layers.push({ name: layer.name, macs, weightBits: wBits, activationBits: aBits, sizeBytes: bits / 8, bops });
  }
  return report;
}
