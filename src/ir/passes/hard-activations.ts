import type { Graph } from '../graph.js';
import type { Activation, Layer } from '../layers.js';
import { GraphIndex, withLayers } from './graph-index.js';

const near = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

/**
 * Recognise the written-out forms of HardSigmoid and HardSwish that
 * exporters emit, and replace them by one activation layer:
 *   relu6(x + 3) / 6         (or * 1/6)  ->  hardSigmoid(x), alpha 1/6, beta 1/2
 *   x * hardSigmoid(x)                   ->  hardSwish(x)
 *   x * relu6(x + 3) / 6                 ->  hardSwish(x)
 * `relu6(x + 3)` is Clip(Add(x, 3), 0, 6). Matches need every intermediate to have one reader.
 */
export function recogniseHardActivations(graph: Graph): Graph {
  let g = graph;
  for (;;) {
    const next = rewriteOnce(g);
    if (!next) return g;
    g = next;
  }
}

function rewriteOnce(graph: Graph): Graph | undefined {
  const idx = new GraphIndex(graph);
  /** If `t` is relu6(x + 3) with single-reader intermediates, return x and the layers involved. */
  const relu6Plus3 = (t: string): { x: string; layers: Layer[] } | undefined => {
    const clip = idx.producer.get(t);
    if (!clip || clip.op !== 'activation' || clip.fn.kind !== 'clip' || clip.fn.min !== 0 || clip.fn.max !== 6) return undefined;
    const add = idx.producer.get(clip.inputs[0]!);
    if (!add || add.op !== 'add' || add.activation || idx.soleReader(add.outputs[0]!) !== clip) return undefined;
    const [a, b] = add.inputs as [string, string];
    if (near(idx.scalar(b), 3) && !graph.constants.has(a)) return { x: a, layers: [add, clip] };
    if (near(idx.scalar(a), 3) && !graph.constants.has(b)) return { x: b, layers: [add, clip] };
    return undefined;
  };
  /** `layer` divides by 6 or multiplies by 1/6: the other operand. */
  const sixth = (layer: Layer): string | undefined => {
    if (layer.op === 'div' && near(idx.scalar(layer.inputs[1]), 6)) return layer.inputs[0];
    if (layer.op === 'mul' && near(idx.scalar(layer.inputs[1]), 1 / 6)) return layer.inputs[0];
    if (layer.op === 'mul' && near(idx.scalar(layer.inputs[0]), 1 / 6)) return layer.inputs[1];
    return undefined;
  };
  const replace = (drop: Layer[], last: Layer, x: string, fn: Activation): Graph => {
    const act: Layer = { name: last.name, op: 'activation', fn, inputs: [x], outputs: last.outputs };
    const dropSet = new Set(drop);
    const layers = graph.layers.filter((l) => !dropSet.has(l) || l === last).map((l) => (l === last ? act : l));
    return withLayers(graph, layers);
  };
  for (const layer of graph.layers) {
    if (layer.op !== 'div' && layer.op !== 'mul') continue;
    if ('activation' in layer && layer.activation) continue;
    // relu6(x+3)/6 and (x * relu6(x+3))/6
    const inner = sixth(layer);
    if (inner !== undefined && idx.soleReader(inner) === layer) {
      const r = relu6Plus3(inner);
      if (r) return replace(r.layers, layer, r.x, { kind: 'hardSigmoid', alpha: 1 / 6, beta: 0.5 });
      const mul = idx.producer.get(inner);
      if (mul && mul.op === 'mul' && !mul.activation) {
        for (const [p, q] of [mul.inputs, [...mul.inputs].reverse()] as Array<[string, string]>) {
          const r2 = idx.soleReader(q) === mul ? relu6Plus3(q) : undefined;
          if (r2 && r2.x === p) return replace([...r2.layers, mul], layer, p, { kind: 'hardSwish' });
        }
      }
    }
    // x * hardSigmoid(x)
    if (layer.op === 'mul') {
      for (const [p, q] of [layer.inputs, [...layer.inputs].reverse()] as Array<[string, string]>) {
        const hs = idx.producer.get(q);
        if (hs?.op === 'activation' && hs.fn.kind === 'hardSigmoid' && near(hs.fn.alpha, 1 / 6) && near(hs.fn.beta, 0.5) && hs.inputs[0] === p && idx.soleReader(q) === layer) {
          return replace([hs], layer, p, { kind: 'hardSwish' });
        }
      }
    }
  }
  return undefined;
}

