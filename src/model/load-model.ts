import { ModelFormatError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { simplify } from '../ir/simplify.js';
import type { Dim } from '../ir/shape.js';
import { importOnnx } from '../import/onnx/import-onnx.js';

export interface LoadOptions {
  inputShapes?: Record<string, Dim[]>;
  /** Run the simplification passes (default true). */
  simplify?: boolean;
}

/** Import a model from bytes; the format is recognised from its content. */
export function loadModel(bytes: Uint8Array, options: LoadOptions = {}): Graph {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  if (head.startsWith('{')) {
    throw new ModelFormatError('this looks like a TF.js model.json; TF.js import is not available yet (ONNX only)');
  }
  const graph = importOnnx(bytes, options.inputShapes ? { inputShapes: options.inputShapes } : {});
  return options.simplify === false ? graph : simplify(graph);
}
