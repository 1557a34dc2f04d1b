import { ModelFormatError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import { flattenIntoDense } from './flatten-into-dense.js';
import { importGraphModel } from './graph-model.js';
import { asObject, isObject, parseJsonObject } from './json.js';
import { importLayersModel } from './layers-model.js';
import type { TfjsImportOptions } from './options.js';
import { decodeWeights, parseManifest } from './weights.js';

/** A TF.js model as its files hold it. */
export interface TfjsArtifacts {
  /** The parsed model.json. */
  modelJson: unknown;
  /** All weight shards concatenated in manifest order. */
  weightData: ArrayBuffer;
}

/**
 * Import a TF.js model, layers (Keras) or graph (TensorFlow GraphDef), into
 * the IR. The graph takes its input as TF.js users feed it (NHWC, batch `N`)
 * and gives its outputs in TF.js's layout; inside, images are NCHW.
 */
export function importTfjs(artifacts: TfjsArtifacts, options: TfjsImportOptions = {}): Graph {
  const json = asObject(artifacts.modelJson, 'model.json');
  if (!isObject(json.modelTopology)) throw new ModelFormatError('model.json has no modelTopology: not a TF.js model');
  const weights = decodeWeights(parseManifest(json.weightsManifest), artifacts.weightData);
  const graph = isGraphModel(json) ? importGraphModel(json, weights, options) : importLayersModel(json.modelTopology, weights, options);
  return flattenIntoDense(graph);
}

function isGraphModel(json: Record<string, unknown>): boolean {
  if (json.format === 'graph-model') return true;
  if (json.format === 'layers-model') return false;
  // Older converters wrote no format: a GraphDef lists nodes, a Keras topology does not.
  return isObject(json.modelTopology) && Array.isArray(json.modelTopology.node);
}

/** Whether bytes look like a TF.js model.json (a JSON object naming modelTopology), not an ONNX protobuf. */
export function isTfjsModelJson(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 4096)).trimStart();
  return head.startsWith('{') && /"(modelTopology|weightsManifest|format)"\s*:/.test(head);
}

/** Parse the text of a model.json; `what` names the file in errors. */
export function parseTfjsModelJson(text: string | Uint8Array, what = 'model.json'): Record<string, unknown> {
  return parseJsonObject(typeof text === 'string' ? text : new TextDecoder().decode(text), what);
}

export type { TfjsImportOptions };
