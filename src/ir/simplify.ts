import type { Graph } from './graph.js';
import { inferGraphShapes } from './infer-shapes.js';
import { foldBatchNorm } from './passes/fold-batch-norm.js';
import { foldPad } from './passes/fold-pad.js';
import { fuseActivations } from './passes/fuse-activations.js';
import { recogniseHardActivations } from './passes/hard-activations.js';
import { removeDeadAndIdentity } from './passes/remove-identities.js';

export type Pass = (g: Graph) => Graph;

/**
 * The simplification pipeline, in order. Constant folding already happens at
 * import (a layer whose inputs are all constant is evaluated there).
 */
export const SIMPLIFY_PASSES: ReadonlyArray<readonly [string, Pass]> = [
  ['remove-dead-and-identity', removeDeadAndIdentity],
  ['fold-batch-norm', foldBatchNorm],
  ['fold-pad-into-conv', foldPad],
  ['recognise-hard-activations', recogniseHardActivations],
  ['fuse-activations', fuseActivations],
];

export function simplify(graph: Graph, passes = SIMPLIFY_PASSES): Graph {
  let g = graph;
  for (const [, pass] of passes) g = pass(g);
  inferGraphShapes(g);
  return g;
}
