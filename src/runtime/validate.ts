/**
 * Whether the GPU runs a whole model, answered before any buffer is made:
 * every layer's operator record (operators.ts) says what it refuses, and
 * every offending layer is reported at once, in one typed error.
 */
import { GpuUnsupportedError, ShapeError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { QParams } from '../quant/qparams.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import type { PlanFacts, PlanOptions, ValidateContext } from './operator.js';
import { FLOAT_OPERATORS, integerOpName, integerOperator } from './operators.js';

/** Parameters, ranks and constants of a quantized graph, as validation and planning read them. */
export function validateContext(qg: QuantizedGraph, facts: PlanFacts, options: PlanOptions): ValidateContext {
  return {
    facts,
    options,
    params(name: string): QParams {
      const p = qg.tensors.get(name);
      if (p === undefined) throw new ShapeError(`integer tensor '${name}' has no quantization parameters`);
      return p;
    },
    rank: (name) => qg.float.shapes.get(name)?.length,
    constant: (name) => qg.constants.get(name),
  };
}

/** A layer the GPU cannot run, and why. */
export interface GpuProblem {
  readonly layer: string;
  /** The operator's name in the table (a float island's: its op, and `float`). */
  readonly op: string;
  readonly why: string;
}

/** Every reason, layer by layer, the GPU cannot run the model; empty when it can. */
export function gpuProblems(model: Graph | QuantizedGraph, facts: PlanFacts, options: PlanOptions = {}): GpuProblem[] {
  const problems: GpuProblem[] = [];
  const floatProblems = (layer: Graph['layers'][number], ctx: ValidateContext, island: boolean): void => {
    const op = FLOAT_OPERATORS[layer.op];
    const why = op === undefined ? ['no float32 GPU kernel'] : op.validate(layer, ctx);
    for (const w of why) problems.push({ layer: layer.name, op: island ? `${layer.op}, float` : layer.op, why: w });
  };
  if (!('tensors' in model)) {
    const ctx = floatValidateContext(model, facts, options);
    for (const layer of model.layers) floatProblems(layer, ctx, false);
    return problems;
  }
  const ctx = validateContext(model, facts, options);
  for (const layer of model.layers) {
    if (layer.kind === 'float') {
      floatProblems(layer.layer, ctx, true);
      continue;
    }
    const op = integerOperator(layer);
    // The way out, where there is one: a float32 kernel for the layer's op.
    const floatOp = layer.kind === 'move' ? layer.layer.op : undefined;
    const hint = floatOp === undefined || FLOAT_OPERATORS[floatOp] !== undefined ? ' (set the layer to "float" to run it in float32)' : ' (nor a float32 one: the golden model runs it on the CPU)';
    const why = op?.plan === undefined ? [`no integer GPU kernel${hint}`] : op.validate(layer, ctx);
    for (const w of why) problems.push({ layer: layer.name, op: integerOpName(layer), why: w });
  }
  return problems;
}

/** Ranks and constants of a float graph, as validation and planning read them; it has no integer tensors. */
export function floatValidateContext(graph: Graph, facts: PlanFacts, options: PlanOptions = {}): ValidateContext {
  return {
    facts,
    options,
    params: (name: string): QParams => {
      throw new ShapeError(`float graph: tensor '${name}' has no quantization parameters`);
    },
    rank: (name) => graph.shapes.get(name)?.length,
    constant: (name) => graph.constants.get(name),
  };
}

/**
 * Throws one GpuUnsupportedError, on one line, naming every layer the GPU
 * cannot run; layers with the same reason are listed together.
 */
export function validateForGpu(model: Graph | QuantizedGraph, facts: PlanFacts, options: PlanOptions = {}): void {
  const problems = gpuProblems(model, facts, options);
  if (problems.length === 0) return;
  const byWhy = new Map<string, string[]>();
  for (const p of problems) {
    const named = `layer '${p.layer}' (${p.op})`;
    const layers = byWhy.get(p.why) ?? [];
    if (!layers.includes(named)) layers.push(named);
    byWhy.set(p.why, layers);
  }
  const count = new Set(problems.map((p) => p.layer)).size;
  const reasons = [...byWhy].map(([why, layers]) => `${layers.join(', ')}: ${why}`);
  throw new GpuUnsupportedError(`${count} layer${count === 1 ? '' : 's'} of '${model.name}' cannot run on this GPU: ${reasons.join('; ')}`);
}
