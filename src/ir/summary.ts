import type { Graph } from './graph.js';
import type { Layer } from './layers.js';
import { formatShape, type Dim, type Shape } from './shape.js';
import { formatTextTable } from '../util/text-table.js';

export interface LayerSummary {
  name: string;
  op: string;
  activation?: string;
  inputs: string[];
  outputs: string[];
  inputShapes: Dim[][];
  outputShapes: Dim[][];
  /** Constant values the layer reads (weights, biases, BatchNorm parameters). */
  parameters: number;
  /** Multiply-accumulates per sample (batch axis excluded); null while a spatial size is symbolic. */
  macs: number | null;
}

export interface GraphSummary {
  name: string;
  inputs: Array<{ name: string; shape: Dim[] }>;
  outputs: Array<{ name: string; shape: Dim[] }>;
  layers: LayerSummary[];
  totals: { layers: number; parameters: number; macs: number | null };
}

/** Product of the dimensions after the batch axis; null if any is symbolic. */
function perSample(shape: Shape, skipLeading = 1): number | null {
  let n = 1;
  for (const d of shape.slice(skipLeading)) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Multiply-accumulates per sample: what the cost model multiplies by bitwidths. */
export function layerMacs(layer: Layer, ins: readonly Shape[], outs: readonly Shape[]): number | null {
  const out = outs[0]!;
  const num = (d: Dim | undefined): number | null => (typeof d === 'number' ? d : null);
  switch (layer.op) {
    case 'conv': {
      const w = ins[1]!;
      const o = perSample(out);
      const k = perSample(w);
      return o === null || k === null ? null : o * k;
    }
    case 'convTranspose': {
      const w = ins[1]!;
      // Every input value (C*H*W of them) meets the (M/group)*kH*kW weights of its channel.
      const i = perSample(ins[0]!);
      const k = perSample(w);
      return i === null || k === null ? null : i * k;
    }
    case 'dense': {
      const o = perSample(out);
      const k = num(ins[1]![1]);
      return o === null || k === null ? null : o * k;
    }
    case 'gemm':
    case 'matMul': {
      const o = perSample(out);
      const a = ins[0]!;
      const k = num(layer.op === 'gemm' && layer.transA ? a[0] : a[a.length - 1]);
      return o === null || k === null ? null : o * k;
    }
    default:
      return 0;
  }
}

function activationName(layer: Layer): string | undefined {
  const a = 'activation' in layer ? layer.activation : layer.op === 'activation' ? layer.fn : undefined;
  if (!a) return undefined;
  if (a.kind === 'clip') return a.min === 0 && a.max === 6 ? 'relu6' : `clip(${a.min},${a.max})`;
  return a.kind;
}

export function summarize(graph: Graph): GraphSummary {
  const shape = (n: string): Dim[] => [...(graph.shapes.get(n) ?? [])];
  const layers = graph.layers.map((l): LayerSummary => {
    const inputShapes = l.inputs.map(shape);
    const outputShapes = l.outputs.map(shape);
    const parameters = l.inputs.reduce((acc, n) => acc + (graph.constants.get(n)?.data.length ?? 0), 0);
    const act = activationName(l);
    return {
      name: l.name,
      op: l.op,
      ...(act && l.op !== 'activation' ? { activation: act } : {}),
      ...(l.op === 'activation' ? { activation: act! } : {}),
      inputs: l.inputs,
      outputs: l.outputs,
      inputShapes,
      outputShapes,
      parameters,
      macs: layerMacs(l, inputShapes, outputShapes),
    };
  });
  let parameters = 0;
  for (const c of graph.constants.values()) parameters += c.data.length;
  const macs = layers.some((l) => l.macs === null) ? null : layers.reduce((a, l) => a + l.macs!, 0);
  return {
    name: graph.name,
    inputs: graph.inputs.map((i) => ({ name: i.name, shape: [...i.shape] })),
    outputs: graph.outputs.map((o) => ({ name: o.name, shape: shape(o.name) })),
    layers,
    totals: { layers: layers.length, parameters, macs },
  };
}

function fmtCount(n: number | null): string {
  if (n === null) return '?';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** A fixed-width table for people. */
export function formatSummary(s: GraphSummary): string {
  const rows = s.layers.map((l) => [l.name, l.activation && l.op !== 'activation' ? `${l.op}+${l.activation}` : l.op === 'activation' ? l.activation! : l.op, l.outputShapes.map(formatShape).join(' '), fmtCount(l.parameters), fmtCount(l.macs)]);
  const head = ['layer', 'op', 'output shape', 'params', 'MACs'];
  const out = [
    `model ${s.name}`,
    ...s.inputs.map((i) => `input  ${i.name} ${formatShape(i.shape)}`),
    ...s.outputs.map((o) => `output ${o.name} ${formatShape(o.shape)}`),
    '',
    ...formatTextTable(head, rows, { rightFrom: 3, rule: true }),
    '',
    `${s.totals.layers} layers, ${fmtCount(s.totals.parameters)} parameters (${s.totals.parameters}), ${fmtCount(s.totals.macs)} MACs per sample${s.totals.macs === null ? ' (a spatial size is symbolic; fix it with --shape)' : ` (${s.totals.macs})`}`,
  ];
  return out.join('\n');
}
