import { ModelFormatError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { simplify } from '../ir/simplify.js';
import type { Dim } from '../ir/shape.js';
import { importOnnx } from '../import/onnx/import-onnx.js';
// import-tfjs.js, not the index: the index also exports the Node file reader.
import { importTfjs, isTfjsModelJson, type TfjsArtifacts } from '../import/tfjs/import-tfjs.js';

export interface LoadOptions {
  inputShapes?: Record<string, Dim[]>;
  /** Run the simplification passes (default true). */
  simplify?: boolean;
}

function finish(graph: Graph, options: LoadOptions): Graph {
  return options.simplify === false ? graph : simplify(graph);
}

/**
 * Import a model from bytes: ONNX, recognised from its content. A TF.js
 * model.json keeps its weights in shard files beside it: use `loadTfjsModel`
 * with the parsed JSON and the weight bytes, or `loadModelFile` in Node.
 */
export function loadModel(bytes: Uint8Array, options: LoadOptions = {}): Graph {
  if (isTfjsModelJson(bytes)) {
    throw new ModelFormatError('a TF.js model.json keeps its weights in shard files beside it: load it with loadTfjsModel(json, weights) or by path');
  }
  return finish(importOnnx(bytes, options.inputShapes ? { inputShapes: options.inputShapes } : {}), options);
}

/** Import a TF.js layers or graph model from its model.json and its concatenated weight shards. */
export function loadTfjsModel(artifacts: TfjsArtifacts, options: LoadOptions = {}): Graph {
  return finish(importTfjs(artifacts, options.inputShapes ? { inputShapes: options.inputShapes } : {}), options);
}
