import { QuantConfigError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import { base64ToBytes, base64ToFloat32, viewToBase64 } from '../../io/base64.js';
import { layerSetting, type LayerQuant, type QuantConfig } from '../config.js';
import type { QuantizedGraph } from '../quantized-graph.js';
import { integerFormOf } from '../../runtime/operators.js';

/** What was learned for one convolution or dense layer. */
export interface LayerRefinement {
  /** AdaRound's integer weight codes, in the layer's weight layout (absent: nearest rounding). */
  weights?: Int8Array;
  /**
   * Empirical bias correction, per output channel, in the layer's output
   * units: added to the float bias before it is quantized (minus the mean
   * pre-activation error of the quantized layer on calibration images).
   */
  biasCorrection?: Float32Array;
}

/**
 * What `refine` learned, as plain data: per layer, learned weight codes and
 * bias corrections, and fingerprints of what it was learned for, so that
 * `quantize` refuses it for another model, config or calibration.
 */
export interface Refinement {
  /** Fingerprints (hex) of the prepared model's weights, the per-layer settings, and the quantized ranges and scales. */
  learnedFor: { model: string; config: string; ranges: string };
  layers: ReadonlyMap<string, LayerRefinement>;
  /** Calibration images it was learned on, and the seconds it took. */
  images: number;
  seconds: number;
}

/** Does a layer setting ask for anything learned? */
export function needsLearning(s: LayerQuant): { rounding: boolean; bias: boolean } {
  return { rounding: s.rounding === 'adaround', bias: s.biasCorrection === 'empirical' };
}

/** The integer convolution and dense layers of a prepared graph whose setting asks for learning, in graph order. */
export function layersToLearn(graph: Graph, config: QuantConfig): string[] {
  return graph.layers
    .filter((l) => {
      if (l.op !== 'conv' && l.op !== 'dense') return false;
      const s = layerSetting(config, l.name);
      if (s === 'float' || integerFormOf(l, graph) === undefined) return false;
      const n = needsLearning(s);
      return n.rounding || n.bias;
    })
    .map((l) => l.name);
}

/** FNV-1a over bytes, 32 bits, as 8 hex digits: a check that two inputs are the same, not a cryptographic hash. */
class Fingerprint {
  private h = 0x811c9dc5;
  bytes(b: Uint8Array): this {
    let h = this.h;
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    this.h = h;
    return this;
  }
  view(v: ArrayBufferView): this {
    return this.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  text(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }
  hex(): string {
    return (this.h >>> 0).toString(16).padStart(8, '0');
  }
}

/**
 * The fingerprints of a nearest-rounding quantized graph: the prepared
 * model's layers and constants, every layer's setting, and every tensor's
 * quantization parameters with every layer's weight scales (which is what
 * calibration statistics decide).
 */
export function learnedForOf(qg: QuantizedGraph): Refinement['learnedFor'] {
  const model = new Fingerprint();
  for (const l of qg.float.layers) model.text(`${l.name}:${l.op}:${l.inputs.join(',')};`);
  for (const [name, c] of [...qg.float.constants].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) model.text(`${name}:${c.shape.join('x')};`).view(c.data);
  const config = new Fingerprint();
  for (const [name, s] of qg.settings) config.text(`${name}=${JSON.stringify(s)};`);
  const ranges = new Fingerprint();
  for (const [name, p] of [...qg.tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) ranges.text(`${name}:${p.scale}:${p.zeroPoint}:${p.lo}:${p.hi};`);
  for (const l of qg.layers) if (l.kind === 'conv' || l.kind === 'dense') ranges.text(`${l.name};`).view(l.weightScales);
  return { model: model.hex(), config: config.hex(), ranges: ranges.hex() };
}

/**
 * Refuse a refinement learned for something else than this quantization,
 * or a quantization whose config asks for learning that the refinement lacks;
 * the error names the layers and how to learn them.
 */
export function checkRefinement(qg: QuantizedGraph, refinement: Refinement | undefined): void {
  const wanted = layersToLearn(qg.float, qg.config);
  const how = 'learn it with refine(graph, stats, config, images) (CLI: quantgpu refine MODEL --config C --data D -o FILE, then --refinement FILE)';
  if (refinement === undefined) {
    if (wanted.length === 0) return;
    throw new QuantConfigError(`${listLayers(wanted)} ask${wanted.length === 1 ? 's' : ''} for AdaRound rounding or empirical bias correction, learned on calibration images, and no refinement was given: ${how}`);
  }
  const now = learnedForOf(qg);
  const what = { model: 'another model', config: 'another config', ranges: 'other calibration statistics (other activation ranges or weight scales)' } as const;
  for (const key of ['model', 'config', 'ranges'] as const) {
    if (refinement.learnedFor[key] !== now[key]) throw new QuantConfigError(`the refinement was learned for ${what[key]} (fingerprint ${refinement.learnedFor[key]}, this one ${now[key]}): ${how}`);
  }
  const missing = wanted.filter((name) => {
    const r = refinement.layers.get(name);
    const s = qg.settings.get(name) as LayerQuant;
    const n = needsLearning(s);
    return r === undefined || (n.rounding && r.weights === undefined) || (n.bias && r.biasCorrection === undefined);
  });
  if (missing.length > 0) throw new QuantConfigError(`the refinement has nothing learned for ${listLayers(missing)}: ${how}`);
}

function listLayers(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(', ');
  return `layer${names.length === 1 ? '' : 's'} ${shown}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/** A refinement as a JSON file (base64 arrays, as the calibration stats file). */
export interface RefinementFile {
  format: 'quantgpu-refinement';
  version: 1;
  learnedFor: Refinement['learnedFor'];
  images: number;
  seconds: number;
  layers: Record<string, { weights?: string; biasCorrection?: string }>;
}

export function refinementToFile(r: Refinement): RefinementFile {
  const layers: RefinementFile['layers'] = {};
  for (const [name, l] of r.layers) {
    layers[name] = {
      ...(l.weights ? { weights: viewToBase64(l.weights) } : {}),
      ...(l.biasCorrection ? { biasCorrection: viewToBase64(l.biasCorrection) } : {}),
    };
  }
  return { format: 'quantgpu-refinement', version: 1, learnedFor: { ...r.learnedFor }, images: r.images, seconds: r.seconds, layers };
}

/** Parse a file written by `refinementToFile`; a bad field throws QuantConfigError naming it. */
export function refinementFromFile(json: unknown): Refinement {
  const where = 'refinement';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new QuantConfigError(`${where}: expected an object`);
  const o = json as Record<string, unknown>;
  if (o.format !== 'quantgpu-refinement') throw new QuantConfigError(`${where}.format: expected 'quantgpu-refinement', got ${String(o.format)}`);
  if (o.version !== 1) throw new QuantConfigError(`${where}.version: expected 1, got ${String(o.version)}`);
  const lf = o.learnedFor as Record<string, unknown> | undefined;
  for (const key of ['model', 'config', 'ranges']) {
    if (typeof lf?.[key] !== 'string') throw new QuantConfigError(`${where}.learnedFor.${key}: expected a string`);
  }
  for (const key of ['images', 'seconds']) {
    if (typeof o[key] !== 'number' || !(o[key] >= 0)) throw new QuantConfigError(`${where}.${key}: expected a number >= 0`);
  }
  if (typeof o.layers !== 'object' || o.layers === null || Array.isArray(o.layers)) throw new QuantConfigError(`${where}.layers: expected an object`);
  const layers = new Map<string, LayerRefinement>();
  for (const [name, value] of Object.entries(o.layers as Record<string, unknown>)) {
    const at = `${where}.layers['${name}']`;
    if (typeof value !== 'object' || value === null) throw new QuantConfigError(`${at}: expected an object`);
    const v = value as Record<string, unknown>;
    const layer: LayerRefinement = {};
    if (v.weights !== undefined) layer.weights = decode(v.weights, `${at}.weights`, (t) => new Int8Array(base64ToBytes(t).buffer));
    if (v.biasCorrection !== undefined) {
      layer.biasCorrection = decode(v.biasCorrection, `${at}.biasCorrection`, base64ToFloat32);
      if (layer.biasCorrection.some((x) => !Number.isFinite(x))) throw new QuantConfigError(`${at}.biasCorrection: holds a value that is not finite`);
    }
    layers.set(name, layer);
  }
  return { learnedFor: { model: lf!.model as string, config: lf!.config as string, ranges: lf!.ranges as string }, layers, images: o.images as number, seconds: o.seconds as number };
}

function decode<T>(value: unknown, at: string, parse: (text: string) => T): T {
  if (typeof value !== 'string') throw new QuantConfigError(`${at}: expected a base64 string`);
  try {
    return parse(value);
  } catch (e) {
    throw new QuantConfigError(`${at}: ${(e as Error).message}`);
  }
}
