import { ShapeError } from '../errors.js';
import type { Graph } from './graph.js';
import type { Layer } from './layers.js';
import { broadcastShapes, formatShape, normalizeAxis, type Dim, type Shape } from './shape.js';
import { effectiveKernel, scaleDim, windowOutputSize } from './window.js';

/**
 * Output shapes of one layer from its input shapes. Works on symbols (the
 * summary) and on numbers (the executors call it on every run), so both use
 * one definition of every layer's shape rule.
 */
export function inferLayerShapes(layer: Layer, ins: readonly Shape[], bindings?: ReadonlyMap<string, number>): Shape[] {
  const where = `layer '${layer.name}' (${layer.op})`;
  /** A window's output size along an axis of known size: at least 1, or the window does not fit the (padded) input. */
  const fits = (d: Dim, axis: string, input: Dim): Dim => {
    if (typeof d === 'number' && d < 1) throw new ShapeError(`${where}: the window does not fit the input's ${axis} of ${input} (with its pads): no output`);
    return d;
  };
  const rank = (s: Shape, r: number, what: string): void => {
    if (s.length !== r) throw new ShapeError(`${where}: ${what} must have rank ${r}, got ${formatShape(s)}`);
  };
  const agree = (a: Dim, b: Dim, what: string): void => {
    if (typeof a === 'number' && typeof b === 'number' && a !== b) throw new ShapeError(`${where}: ${what} (${a} vs ${b})`);
  };
  // Every layer reads at least one tensor (a node of a damaged file may name none).
  if (ins.length === 0 || ins.some((t) => t === undefined)) throw new ShapeError(`${where}: ${ins.length === 0 ? 'has no input' : 'an input has no shape'}`);
  const x = ins[0]!;
  switch (layer.op) {
    case 'conv': {
      const w = ins[1]!;
      rank(x, 4, 'the input');
      rank(w, 4, 'the weight');
      const m = w[0]!;
      agree(x[1]!, scaleDim(w[1]!, layer.group), `input channels do not match weight [M, C/group=${layer.group}, kH, kW]`);
      if (typeof m === 'number' && m % layer.group !== 0) throw new ShapeError(`${where}: ${m} output channels are not divisible by group ${layer.group}`);
      if (ins[2]) agree(ins[2][0]!, m, 'bias length differs from output channels');
      const [kh, kw] = [w[2] as number, w[3] as number];
      const p = layer.pads;
      return [[
        x[0]!,
        m,
        fits(windowOutputSize(x[2]!, kh, layer.strides[0], layer.dilations[0], layer.autoPad, [p[0], p[2]]), 'height', x[2]!),
        fits(windowOutputSize(x[3]!, kw, layer.strides[1], layer.dilations[1], layer.autoPad, [p[1], p[3]]), 'width', x[3]!),
      ]];
    }
    case 'convTranspose': {
      const w = ins[1]!;
      rank(x, 4, 'the input');
      rank(w, 4, 'the weight');
      agree(x[1]!, w[0]!, 'input channels do not match weight [C, M/group, kH, kW]');
      const m = scaleDim(w[1]!, layer.group);
      const size = (i: 0 | 1): Dim => {
        if (layer.outputShape) return layer.outputShape[i];
        const d = x[2 + i]!;
        const s = layer.strides[i];
        if (layer.autoPad === 'SAME_UPPER' || layer.autoPad === 'SAME_LOWER') return scaleDim(d, s);
        const k = effectiveKernel(w[2 + i] as number, layer.dilations[i]);
        const pads = layer.autoPad === 'VALID' ? 0 : layer.pads[i]! + layer.pads[i + 2]!;
        return scaleDim(d, s, -s + layer.outputPadding[i] + k - pads);
      };
      return [[x[0]!, m, size(0), size(1)]];
    }
    case 'dense': {
      const w = ins[1]!;
      rank(w, 2, 'the weight');
      if (x.length < 1) throw new ShapeError(`${where}: the input must have rank >= 1`);
      agree(x[x.length - 1]!, w[1]!, 'input features do not match the weight [units, K]');
      return [[...x.slice(0, -1), w[0]!]];
    }
    case 'gemm': {
      const b = ins[1]!;
      rank(x, 2, 'A');
      rank(b, 2, 'B');
      const [m, ka] = layer.transA ? [x[1]!, x[0]!] : [x[0]!, x[1]!];
      const [kb, n] = layer.transB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
      agree(ka, kb, 'inner dimensions of A and B differ');
      if (ins[2]) broadcastShapes([m, n], ins[2], where);
      return [[m, n]];
    }
    case 'matMul': {
      const b = ins[1]!;
      if (x.length === 0 || b.length === 0) throw new ShapeError(`${where}: MatMul needs inputs of rank >= 1`);
      const a2 = x.length === 1 ? [1, x[0]!] : x;
      const b2 = b.length === 1 ? [b[0]!, 1] : b;
      agree(a2[a2.length - 1]!, b2[b2.length - 2]!, 'inner dimensions differ');
      const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2), where);
      const out: Dim[] = [...batch];
      if (x.length > 1) out.push(a2[a2.length - 2]!);
      if (b.length > 1) out.push(b2[b2.length - 1]!);
      return [out];
    }
    case 'batchNorm':
      if (x.length < 2) throw new ShapeError(`${where}: the input needs a channel axis`);
      for (let i = 1; i < 5; i++) agree(ins[i]![0]!, x[1]!, 'parameter length differs from the channel count');
      return [x];
    case 'activation':
    case 'identity':
      return [x];
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return [broadcastShapes(x, ins[1]!, where)];
    case 'concat': {
      const axis = normalizeAxis(layer.axis, x.length, where);
      let total: Dim = 0;
      for (const s of ins) {
        if (s.length !== x.length) throw new ShapeError(`${where}: inputs of different ranks ${formatShape(x)} and ${formatShape(s)}`);
        s.forEach((d, i) => i !== axis && agree(d, x[i]!, `inputs differ on axis ${i}`));
        const d = s[axis]!;
        total = typeof total === 'number' && typeof d === 'number' ? total + d : `${total}+${d}`;
      }
      const out = [...x];
      out[axis] = total;
      return [out];
    }
    case 'maxPool':
    case 'avgPool': {
      rank(x, 4, 'the input');
      const p = layer.pads;
      return [[
        x[0]!,
        x[1]!,
        fits(windowOutputSize(x[2]!, layer.kernel[0], layer.strides[0], layer.dilations[0], layer.autoPad, [p[0], p[2]], layer.ceilMode), 'height', x[2]!),
        fits(windowOutputSize(x[3]!, layer.kernel[1], layer.strides[1], layer.dilations[1], layer.autoPad, [p[1], p[3]], layer.ceilMode), 'width', x[3]!),
      ]];
    }
    case 'globalAvgPool':
    case 'globalMaxPool':
      if (x.length < 3) throw new ShapeError(`${where}: the input needs spatial axes, got ${formatShape(x)}`);
      return [[x[0]!, x[1]!, ...x.slice(2).map(() => 1)]];
    case 'flatten': {
      const axis = layer.axis < 0 ? layer.axis + x.length : layer.axis;
      if (axis < 0 || axis > x.length) throw new ShapeError(`${where}: axis ${layer.axis} is out of range for rank ${x.length}`);
      return [[product(x.slice(0, axis)), product(x.slice(axis))]];
    }
    case 'reshape':
      // A symbol in the target (the batch of `view(N, -1)`) takes its value from the run's inputs.
      return [reshapeTarget(x, bindings ? layer.shape.map((d) => (typeof d === 'string' ? bindings.get(d) ?? d : d)) : layer.shape, layer.allowZero, where)];
    case 'squeeze': {
      const axes = layer.axes.map((a) => normalizeAxis(a, x.length, where));
      if (axes.length === 0) return [x.filter((d) => d !== 1)];
      for (const a of axes) if (x[a] !== 1 && typeof x[a] === 'number') throw new ShapeError(`${where}: axis ${a} has size ${x[a]}, not 1`);
      return [x.filter((_, i) => !axes.includes(i))];
    }
    case 'unsqueeze': {
      const outRank = x.length + layer.axes.length;
      const axes = layer.axes.map((a) => normalizeAxis(a, outRank, where));
      if (new Set(axes).size !== axes.length) throw new ShapeError(`${where}: repeated axes ${layer.axes.join(',')}`);
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < outRank; i++) out.push(axes.includes(i) ? 1 : x[j++]!);
      return [out];
    }
    case 'transpose': {
      const perm = layer.perm.length > 0 ? layer.perm : x.map((_, i) => x.length - 1 - i);
      if (perm.length !== x.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        throw new ShapeError(`${where}: perm [${layer.perm.join(',')}] is not a permutation of rank ${x.length}`);
      }
      return [perm.map((p) => x[p]!)];
    }
    case 'pad': {
      if (layer.pads.length !== 2 * x.length) throw new ShapeError(`${where}: ${layer.pads.length} pads for rank ${x.length}`);
      return [x.map((d, i) => scaleDim(d, 1, layer.pads[i]! + layer.pads[i + x.length]!))];
    }
    case 'resize': {
      if (layer.sizes) {
        if (layer.sizes.length !== x.length) throw new ShapeError(`${where}: ${layer.sizes.length} sizes for rank ${x.length}`);
        return [layer.sizes];
      }
      const scales = layer.scales!;
      if (scales.length !== x.length) throw new ShapeError(`${where}: ${scales.length} scales for rank ${x.length}`);
      return [x.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]!) : scales[i] === 1 ? d : `floor(${scales[i]}*${d})`))];
    }
    case 'softmax':
      normalizeAxis(layer.axis, x.length, where);
      return [x];
  }
}

function product(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) typeof d === 'number' ? (n *= d) : syms.push(d);
  if (syms.length === 0) return n;
  return n === 1 ? syms.join('*') : `${syms.join('*')}*${n}`;
}

/** ONNX Reshape: 0 copies the input dimension (unless allowZero), -1 takes what is left. */
function reshapeTarget(x: Shape, target: readonly Dim[], allowZero: boolean, where: string): Dim[] {
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? x[i] ?? 0 : d));
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) throw new ShapeError(`${where}: more than one -1 in the target shape`);
  const known = (s: readonly Dim[]): { n: number; syms: string[] } => {
    let n = 1;
    const syms: string[] = [];
    for (const d of s) if (d !== -1) typeof d === 'number' ? (n *= d) : syms.push(d);
    return { n, syms: syms.sort() };
  };
  const a = known(x);
  const b = known(out);
  // Cancel symbols that appear on both sides (the batch `N` in `view(N, -1)`).
  const rest = [...a.syms];
  const extra: string[] = [];
  for (const s of b.syms) {
    const k = rest.indexOf(s);
    if (k >= 0) rest.splice(k, 1);
    else extra.push(s);
  }
  if (minus === 0) {
    if (rest.length === 0 && extra.length === 0 && a.n !== b.n) {
      throw new ShapeError(`${where}: cannot reshape ${formatShape(x)} (${a.n} elements) to ${formatShape(target)}`);
    }
    return out;
  }
  if (extra.length > 0 || b.n === 0 || a.n % b.n !== 0) {
    if (rest.length === 0 && extra.length === 0) {
      throw new ShapeError(`${where}: cannot reshape ${formatShape(x)} to ${formatShape(target)}`);
    }
  }
  let inferred: Dim;
  if (rest.length === 0 && extra.length === 0) inferred = a.n / b.n;
  else inferred = `(${[...rest, a.n].join('*')})/${[...extra, b.n].join('*')}`.replace(/\/1$/, '');
  return out.map((d) => (d === -1 ? inferred : d));
}

/** Shape inference over a whole graph; fills `graph.shapes`. */
export function inferGraphShapes(graph: Graph): void {
  const shapes = new Map<string, Shape>();
  for (const i of graph.inputs) shapes.set(i.name, i.shape);
  for (const [name, c] of graph.constants) shapes.set(name, c.shape);
  for (const layer of graph.layers) {
    const ins = layer.inputs.map((n) => {
      const s = shapes.get(n);
      if (!s) throw new ShapeError(`layer '${layer.name}': input '${n}' has no known shape`);
      return s;
    });
    const outs = inferLayerShapes(layer, ins);
    layer.outputs.forEach((o, i) => shapes.set(o, outs[i]!));
  }
  graph.shapes = shapes;
  graph.outputs = graph.outputs.map((o) => ({ name: o.name, shape: shapes.get(o.name) ?? o.shape }));
}
