/**
 * What the planner folds into the network's quantize steps (the float to
 * integer boundary), decided on the quantized graph before planning:
 *
 * - a transpose of rank 4 that is the only reader of a quantize step's output
 *   (TF.js models turn their NHWC input to NCHW first): the quantize step reads
 *   the float input through the transpose's strides and writes the
 *   transpose's output, and the transpose makes no step;
 * - a convolution with few input channels that is the only reader of what the
 *   quantize step writes (src/gpu/ops/im2col.ts): the step writes the
 *   convolution's windows instead.
 *
 * "Only reader" counts integer readers: layers other than quantize steps and
 * float layers (which read the float tensor of a name), and graph outputs
 * that return the integer codes.
 */
import { isDepthwise } from '../gpu/ops/depthwise.js';
import type { QMoveLayer, QMatmulLayer, QuantizedGraph } from '../quant/quantized-graph.js';

export interface BoundaryFusions {
  /** Transposes folded into the quantize step before them, by the name of the quantized tensor they read. */
  readonly transposes: ReadonlyMap<string, QMoveLayer>;
  /** Convolutions that may read an im2col copy, by the name of the integer tensor the quantize step writes for them. */
  readonly im2col: ReadonlyMap<string, QMatmulLayer>;
}

export function boundaryFusions(qg: QuantizedGraph, options: { readonly im2col?: boolean } = {}): BoundaryFusions {
  const readers = new Map<string, number>();
  const count = (name: string): void => void readers.set(name, (readers.get(name) ?? 0) + 1);
  for (const l of qg.layers) if (l.kind !== 'quantize' && l.kind !== 'float') l.inputs.forEach(count);
  for (const o of qg.outputs) if (o.integer !== undefined) count(o.integer);
  const only = (name: string): boolean => readers.get(name) === 1;

  const quantized = new Set(qg.layers.filter((l) => l.kind === 'quantize').map((l) => l.outputs[0]!));
  const transposes = new Map<string, QMoveLayer>();
  for (const l of qg.layers) {
    const x = l.inputs[0]!;
    if (l.kind === 'move' && l.layer.op === 'transpose' && l.layer.perm.length === 4 && quantized.has(x) && only(x)) transposes.set(x, l);
  }
  // What quantize steps write: their own tensors, or the outputs of the transposes folded into them.
  const written = new Set([...quantized].map((x) => transposes.get(x)?.outputs[0] ?? x));
  const im2col = new Map<string, QMatmulLayer>();
  if (options.im2col !== false) {
    for (const l of qg.layers) {
      const x = l.inputs[0]!;
      if (l.kind === 'conv' && !isDepthwise(l) && written.has(x) && only(x)) im2col.set(x, l);
    }
  }
  return { transposes, im2col };
}
