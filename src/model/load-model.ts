import { ModelFormatError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { simplify } from '../ir/simplify.js';
import type { Dim } from '../ir/shape.js';
import { importOnnxModel } from '../import/onnx/import-onnx.js';
import { decodeModelProto } from '../import/onnx/model-proto.js';
import { importQuantizedOnnx, isQuantizedOnnx, type ImportedQuantized } from '../import/onnx/quantized/import-quantized.js';
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
  const model = decodeModelProto(bytes);
  // A model quantized elsewhere: its float operators, with its weights dequantized.
  if (isQuantizedOnnx(model)) return importQuantizedOnnx(model, onnxOptions(options)).graph;
  return finish(importOnnxModel(model, onnxOptions(options)), options);
}

function onnxOptions(options: LoadOptions): { inputShapes?: Record<string, Dim[]>; simplify?: boolean } {
  return { ...(options.inputShapes ? { inputShapes: options.inputShapes } : {}), ...(options.simplify === false ? { simplify: false } : {}) };
}

/**
 * A model quantized elsewhere (ONNX QDQ, QLinearConv / QLinearMatMul
 * operators, or QONNX's Quant) as our quantized graph with the file's own scales, zero points
 * and integer weights, and the notes on where its arithmetic differs from
 * ours; undefined for a float model (ONNX or TF.js).
 */
export function loadQuantizedModel(bytes: Uint8Array, options: LoadOptions = {}): ImportedQuantized | undefined {
  if (isTfjsModelJson(bytes)) return undefined;
  const model = decodeModelProto(bytes);
  return isQuantizedOnnx(model) ? importQuantizedOnnx(model, onnxOptions(options)) : undefined;
}

/** Import a TF.js layers or graph model from its model.json and its concatenated weight shards. */
export function loadTfjsModel(artifacts: TfjsArtifacts, options: LoadOptions = {}): Graph {
  return finish(importTfjs(artifacts, options.inputShapes ? { inputShapes: options.inputShapes } : {}), options);
}
