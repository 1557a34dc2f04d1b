import { InputError } from '../errors.js';
import type { Bits, LayerQuant, QuantConfig } from '../quant/config.js';
import { CostModel, type Objective } from './cost-model.js';
import type { EvalBackend, Evaluation, Evaluator } from './evaluator.js';
import { sensitivity, type LayerTimes, type SensitivityCell, type TensorKind } from './sensitivity.js';
import { assignmentConfig, assignmentLabel, searchSpace, type Assignment, type SearchSpace } from './space.js';

export type SearchMethod = 'fast' | 'sequential';
export const SEARCH_METHODS: readonly SearchMethod[] = ['fast', 'sequential'];

export interface SearchOptions {
  readonly method: SearchMethod;
  readonly objective: Objective;
  /** The accuracy the chosen config may lose against float on the validation split (a fraction: 0.01 is one point). */
  readonly maxLoss: number;
  /**
   * How many standard errors of the measured loss (see Evaluation.lossStdError)
   * a candidate keeps from the bound: loss + confidence * stdError <= maxLoss.
   * 0 trusts the validation split as it is; the default, 1, keeps a choice
   * that only just passes on these images from failing on others (the test split).
   */
  readonly confidence?: number;
  /** Every layer's setting before the search lowers bits (8-bit weights and activations). */
  readonly base: LayerQuant;
  /** Bitwidths the search may give weights and activations (default 8, 6, 5, 4, 3, 2). */
  readonly bits?: readonly Bits[];
  /** What decides: the golden model (default) or the GPU. */
  readonly decide?: EvalBackend;
  /** Validation images the fast simulator ranks on (default 500). */
  readonly rankImages?: number;
  /** Per-layer GPU times, for the gpu-time objective. */
  readonly times?: LayerTimes;
  /**
   * Images the decider judges on, apart from those the search chose on
   * (default: the same). A choice made among many candidates on the same
   * images looks better there than it is (the best of many noisy passes);
   * judged on images nothing else saw, its loss is measured without that
   * bias.
   */
  readonly confirm?: Evaluator;
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

/** One evaluated candidate, as the search met it. */
export interface TraceEntry {
  readonly stage: string;
  readonly label: string;
  readonly config: QuantConfig;
  readonly backend: EvalBackend;
  readonly accuracy: number;
  readonly sizeVsInt8: number;
  readonly bopsVsInt8: number;
  /** The objective's cost against the int8 config's. */
  readonly costVsInt8: number;
  readonly passes: boolean;
}

export interface SearchResult {
  readonly method: SearchMethod;
  readonly objective: Objective;
  readonly maxLoss: number;
  /** Float accuracy on the images the decider judged on (see `confirm`); the bound is this minus maxLoss. */
  readonly floatAccuracy: number;
  readonly chosen: { readonly config: QuantConfig; readonly label: string; readonly validation: Evaluation; readonly costVsInt8: number };
  /** fast: the sensitivity table it ranked with. */
  readonly sensitivity?: readonly SensitivityCell[];
  readonly trace: readonly TraceEntry[];
  /** Model evaluations run (each a pass over a set of images). */
  readonly evaluations: number;
  /** The images those passes ran, in all. */
  readonly imagesEvaluated: number;
  readonly seconds: number;
}

const DEFAULT_BITS: readonly Bits[] = [8, 6, 5, 4, 3, 2];

/**
 * Per-layer bitwidths that keep validation accuracy within `maxLoss` of float
 * at the lowest cost. Both methods choose on the evaluator's set (the
 * validation split) and let the golden model (or the GPU) decide; the caller
 * reports the test split.
 */
export async function search(evaluator: Evaluator, options: SearchOptions): Promise<SearchResult> {
  const t0 = performance.now();
  const other = options.confirm && options.confirm !== evaluator ? options.confirm : undefined;
  const runs = (): number => evaluator.evaluations + (other?.evaluations ?? 0);
  const images = (): number => evaluator.imagesEvaluated + (other?.imagesEvaluated ?? 0);
  const [start, startImages] = [runs(), images()];
  const reference = evaluator.quantize({ default: options.base });
  const space = searchSpace(reference);
  const model = new CostModel(reference, options.base, options.times);
  const run = options.method === 'fast' ? fastSearch : sequentialSearch;
  const r = await run(evaluator, space, model, options);
  return {
    method: options.method,
    objective: options.objective,
    maxLoss: options.maxLoss,
    floatAccuracy: (options.confirm ?? evaluator).float.accuracy,
    ...r,
    chosen: { ...r.chosen, costVsInt8: model.vsInt8(r.chosen.assignment, options.objective) },
    evaluations: runs() - start,
    imagesEvaluated: images() - startImages,
    seconds: (performance.now() - t0) / 1000,
  };
}

type MethodResult = Omit<SearchResult, 'method' | 'objective' | 'maxLoss' | 'floatAccuracy' | 'evaluations' | 'imagesEvaluated' | 'seconds' | 'chosen'> & {
  chosen: { config: QuantConfig; label: string; validation: Evaluation; assignment: Assignment };
};

/** A record of what was evaluated, shared by both methods. */
class Trace {
  readonly entries: TraceEntry[] = [];
  constructor(
    private readonly evaluator: Evaluator,
    private readonly model: CostModel,
    private readonly options: SearchOptions,
  ) {}

  get target(): number {
    return this.evaluator.float.accuracy - this.options.maxLoss;
  }

  async try(stage: string, a: Assignment, backend: EvalBackend, anchor?: Assignment, on: Evaluator = this.evaluator): Promise<{ e: Evaluation; passes: boolean }> {
    const config = assignmentConfig(this.options.base, a);
    const e = await on.evaluate(config, backend, anchor ? { anchor: assignmentConfig(this.options.base, anchor) } : {});
    // Judged against the float accuracy of the same images, with the margin the measurement's noise calls for.
    const loss = on.float.accuracy - e.accuracy;
    const passes = loss + (this.options.confidence ?? 1) * e.lossStdError <= this.options.maxLoss + 1e-12;
    // With layers left in float the cost model does not apply; the evaluation's own cost report does.
    const measured = { size: e.sizeVsInt8, bops: e.bopsVsInt8, 'size+bops': (e.sizeVsInt8 + e.bopsVsInt8) / 2, 'gpu-time': e.bopsVsInt8 }[this.options.objective];
    const cost = a.float && a.float.length > 0 ? measured : this.model.vsInt8(a, this.options.objective);
    this.entries.push({ stage, label: assignmentLabel(this.options.base, a), config, backend, accuracy: e.accuracy, sizeVsInt8: e.sizeVsInt8, bopsVsInt8: e.bopsVsInt8, costVsInt8: cost, passes });
    return { e, passes };
  }
}

type Choice = { layer: string; kind: TensorKind };
const choiceKey = (c: Choice): string => `${c.kind}:${c.layer}`;

function withBits(a: Assignment, c: Choice, bits: Bits): Assignment {
  return c.kind === 'weights' ? { ...a, weights: { ...a.weights, [c.layer]: bits } } : { ...a, activations: { ...a.activations, [c.layer]: bits } };
}

function bitsOf(a: Assignment, c: Choice, base: LayerQuant): number {
  return (c.kind === 'weights' ? a.weights[c.layer] : a.activations[c.layer]) ?? (c.kind === 'weights' ? base.weightBits : base.activationBits);
}

/**
 * Ours. (1) The sensitivity table on the first `rankImages` validation images
 * with the fast simulator: each layer's weights and activations alone at each
 * bitwidth, and the noise each adds to the logits. (2) A greedy path from the
 * all-8-bit config: each step takes the move (one layer's weights or
 * activations down to a lower bitwidth) that saves the most cost per unit of
 * predicted noise, noise adding up across layers (as quantization noise
 * roughly does), until every choice is at its lowest. Costs come from the
 * cost model, so a move's saving counts the layers it touches (activation
 * bits cost in the layers that read them). (3) A bisection along the path on
 * the whole validation split with the exact simulator finds the cheapest
 * config that keeps the bound, (4) a few further moves are tried one by one,
 * (5) each layer's biases get the fewest bits that hold them exactly (no
 * change to any output), and (6) the golden model confirms, stepping back
 * along the path if it must.
 * About a dozen exact evaluations after the table, where the sequential
 * method makes hundreds.
 */
async function fastSearch(evaluator: Evaluator, space: SearchSpace, model: CostModel, options: SearchOptions): Promise<MethodResult> {
  const bits = [...(options.bits ?? DEFAULT_BITS)].sort((a, b) => b - a);
  if (!bits.some((b) => b < 8)) throw new InputError(`search: bits ${bits.join(', ')} leave nothing below 8 to choose`);
  const ranker = evaluator.subset(options.rankImages ?? 500);
  const trace = new Trace(evaluator, model, options);
  const progress = options.onProgress ?? (() => undefined);
  const table = await sensitivity(ranker, space, options.base, {
    bits: bits.filter((b) => b < 8),
    backend: 'fake-quant-fast',
    onCell: (d, n) => progress('sensitivity', d, n),
  });
  // Predicted noise of a choice at a bitwidth: the table's, made monotone (fewer bits never predicted less noisy).
  const noise = new Map<string, Map<number, number>>();
  for (const c of table.cells) {
    const key = choiceKey(c);
    if (!noise.has(key)) noise.set(key, new Map([[8, 0]]));
    noise.get(key)!.set(c.bits, Math.max(0, c.noiseDelta));
  }
  for (const m of noise.values()) {
    let worst = 0;
    for (const b of bits) {
      worst = Math.max(worst, m.get(b) ?? worst);
      m.set(b, worst);
    }
  }
  const choices: Choice[] = [...space.weightLayers.map((layer) => ({ layer, kind: 'weights' as const })), ...space.activationLayers.map((layer) => ({ layer, kind: 'activations' as const }))];
  const path: Assignment[] = [{ weights: {}, activations: {} }];
  let state = path[0]!;
  const floor = Math.max(1e-9, table.reference.noise * 1e-3);
  for (;;) {
    let best: { a: Assignment; score: number; saving: number } | undefined;
    const cost = model.cost(state, options.objective);
    for (const c of choices) {
      const now = bitsOf(state, c, options.base);
      const n0 = noise.get(choiceKey(c))!.get(now) ?? 0;
      for (const b of bits) {
        if (b >= now) continue;
        const next = withBits(state, c, b);
        const saving = cost - model.cost(next, options.objective);
        if (saving <= 0) continue;
        const score = saving / (Math.max(0, noise.get(choiceKey(c))!.get(b)! - n0) + floor);
        if (!best || score > best.score || (score === best.score && saving > best.saving)) best = { a: next, score, saving };
      }
    }
    if (!best) break;
    state = best.a;
    path.push(state);
  }
  // Bisection for the last config on the path that keeps the bound (the first one, all 8 bits, is assumed to).
  let lo = 0;
  let hi = path.length - 1;
  const exact = (i: number, stage: string) => trace.try(stage, path[i]!, 'fake-quant');
  if ((await exact(hi, 'bisect')).passes) lo = hi;
  else {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((await exact(mid, 'bisect')).passes) lo = mid;
      else hi = mid;
      progress('bisect', Math.round(Math.log2(path.length)) - Math.round(Math.log2(Math.max(1, hi - lo))), Math.round(Math.log2(path.length)));
    }
  }
  // A few more moves one at a time: the path is a prediction, and a move it placed too early may still fit.
  let chosen = path[lo]!;
  const tried = new Set<string>();
  for (let i = lo + 1, k = 0; i < path.length && k < 6; i++) {
    const move = diff(path[i - 1]!, path[i]!);
    if (!move || tried.has(choiceKey(move.c))) continue;
    tried.add(choiceKey(move.c));
    if (bitsOf(chosen, move.c, options.base) <= move.bits) continue;
    k++;
    const candidate = withBits(chosen, move.c, move.bits);
    if ((await trace.try('refine', candidate, 'fake-quant')).passes) chosen = candidate;
  }
  // The decider: the golden model (or the GPU); back along the path while it disagrees.
  const decide = options.decide ?? 'cpu-golden';
  chosen = tightBiases(evaluator, options.base, chosen);
  let decided = await trace.try('decide', chosen, decide, undefined, options.confirm);
  for (let i = lo; !decided.passes && i > 0; ) {
    i = Math.max(0, i - Math.max(1, Math.round((path.length - 1) / 32)));
    chosen = tightBiases(evaluator, options.base, path[i]!);
    decided = await trace.try('decide', chosen, decide, undefined, options.confirm);
  }
  return { chosen: { config: assignmentConfig(options.base, chosen), label: assignmentLabel(options.base, chosen), validation: decided.e, assignment: chosen }, sensitivity: table.cells, trace: trace.entries };
}

/**
 * Each layer's biases at the fewest bits (8 to 32) that hold its quantized
 * biases as they are: the same integers, so the same outputs, in less
 * memory. The widths fit these calibration statistics; a config run with
 * other statistics may saturate a bias (as any width under 32 may).
 */
export function tightBiases(evaluator: Evaluator, base: LayerQuant, a: Assignment): Assignment {
  const qg = evaluator.quantize(assignmentConfig(base, a));
  const biasBits: Record<string, number> = { ...a.biasBits };
  for (const l of qg.layers) {
    if ((l.kind !== 'conv' && l.kind !== 'dense') || l.layer.inputs[2] === undefined) continue;
    const peak = l.bias.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const need = Math.max(8, Math.ceil(Math.log2(peak + 1)) + 1);
    if (need < (biasBits[l.name] ?? base.biasBits)) biasBits[l.name] = need;
  }
  return { ...a, biasBits };
}

function diff(a: Assignment, b: Assignment): { c: Choice; bits: Bits } | undefined {
  for (const [layer, bits] of Object.entries(b.weights)) if (a.weights[layer] !== bits) return { c: { layer, kind: 'weights' }, bits };
  for (const [layer, bits] of Object.entries(b.activations)) if (a.activations[layer] !== bits) return { c: { layer, kind: 'activations' }, bits };
  return undefined;
}

/**
 * The second paper's method: layer by layer in network order, with the layers
 * not reached yet left in float, the smallest bitwidth of the weights, then
 * of the biases, then of the activations that keeps the bound, each with the
 * layers already chosen in place, because the errors interact. With the
 * pow2 scheme each bitwidth also tries the fractional offsets (Qm.n) next to
 * the calibrated one and keeps the best. Every candidate is evaluated on the
 * whole validation split with the fast simulator; the golden model (or the
 * GPU) then evaluates the result (the method has no repair step).
 */
async function sequentialSearch(evaluator: Evaluator, space: SearchSpace, model: CostModel, options: SearchOptions): Promise<MethodResult> {
  const bits = [...(options.bits ?? DEFAULT_BITS)].sort((a, b) => a - b);
  const pow2 = options.base.scheme === 'pow2';
  const trace = new Trace(evaluator, model, options);
  const progress = options.onProgress ?? (() => undefined);
  // Every layer not reached yet stays in float, pools and data movement included.
  const all = evaluator.prepared.layers.map((l) => l.name);
  const order = all.filter((n) => space.weightLayers.includes(n) || space.activationLayers.includes(n));
  let state: Assignment = { weights: {}, activations: {}, fractional: {}, biasBits: {}, float: [...all] };
  const defaults = new FractionalDefaults(evaluator, options.base);
  for (const [i, layer] of order.entries()) {
    progress('layers', i, order.length);
    const reached = all.indexOf(layer);
    state = { ...state, float: state.float!.filter((l) => all.indexOf(l) > reached) };
    const steps: Array<'weights' | 'biases' | 'activations'> = [];
    if (space.weightLayers.includes(layer)) steps.push('weights', ...(pow2 && defaults.hasBias(layer) ? ['biases' as const] : []));
    if (space.activationLayers.includes(layer)) steps.push('activations');
    for (const step of steps) {
      const widths: number[] = step === 'biases' ? [8, 12, 16, 32] : bits;
      let picked: Assignment | undefined;
      for (const b of widths) {
        let best: { a: Assignment; accuracy: number } | undefined;
        for (const n of pow2 ? defaults.offsets(state, layer, step, b) : [undefined]) {
          const a = place(state, layer, step, b, n);
          const { e, passes } = await trace.try(`${step}`, a, 'fake-quant-fast', state);
          if (passes && (!best || e.accuracy > best.accuracy)) best = { a, accuracy: e.accuracy };
        }
        if (best) {
          picked = best.a;
          break;
        }
      }
      if (picked) state = picked;
    }
  }
  progress('layers', order.length, order.length);
  state = { ...state, float: [] };
  const decided = await trace.try('decide', state, options.decide ?? 'cpu-golden', undefined, options.confirm);
  return { chosen: { config: assignmentConfig(options.base, state), label: assignmentLabel(options.base, state), validation: decided.e, assignment: state }, trace: trace.entries };
}

/** One layer's weights, biases or activations at `bits` (and, pow2, at the fractional offset `n`). */
function place(a: Assignment, layer: string, step: 'weights' | 'biases' | 'activations', bits: number, n: number | undefined): Assignment {
  const fractional = { ...a.fractional };
  const key = step === 'weights' ? 'weightFractionalBits' : step === 'biases' ? 'biasFractionalBits' : 'activationFractionalBits';
  if (n !== undefined) fractional[layer] = { ...fractional[layer], [key]: n };
  if (step === 'biases') return { ...a, biasBits: { ...a.biasBits, [layer]: bits }, fractional };
  return { ...(step === 'weights' ? withBits(a, { layer, kind: 'weights' }, bits as Bits) : withBits(a, { layer, kind: 'activations' }, bits as Bits)), fractional };
}

/**
 * The calibrated Qm.n offsets a pow2 layer gets at a bitwidth (what the
 * quantizer chooses when the config names none), and the candidates the
 * sequential method tries around them: n - 1, n, n + 1 (for biases, whose
 * grid cannot be finer than the accumulator's, n and the two coarser ones).
 */
class FractionalDefaults {
  constructor(
    private readonly evaluator: Evaluator,
    private readonly base: LayerQuant,
  ) {}

  hasBias(layer: string): boolean {
    const l = this.evaluator.prepared.layers.find((x) => x.name === layer);
    return l !== undefined && l.inputs.length > 2 && this.evaluator.prepared.constants.has(l.inputs[2]!);
  }

  offsets(a: Assignment, layer: string, step: 'weights' | 'biases' | 'activations', bits: number): Array<number | undefined> {
    const probe = place(a, layer, step, bits, undefined);
    const qg = this.evaluator.quantize(assignmentConfig(this.base, { ...probe, float: [] }));
    const q = qg.layers.find((l) => l.name === layer);
    if (step === 'activations') {
      const n = qg.tensors.get(q!.outputs[0]!)?.fractionalBits;
      return n === undefined ? [undefined] : [n, n - 1, n + 1];
    }
    if (!q || (q.kind !== 'conv' && q.kind !== 'dense')) return [undefined];
    const nw = -Math.log2(q.weightScales[0]!);
    if (step === 'weights') return [nw, nw - 1, nw + 1];
    const acc = nw - Math.log2(qg.tensors.get(q.inputs[0]!)!.scale);
    const l = this.evaluator.prepared.layers.find((x) => x.name === layer)!;
    const bias = this.evaluator.prepared.constants.get(l.inputs[2]!)!.data;
    const peak = bias.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const n = peak > 0 ? Math.min(acc, Math.floor(Math.log2((2 ** (bits - 1) - 1) / peak))) : acc;
    return [n, n - 1, n - 2].filter((x) => x <= acc);
  }
}
