/**
 * Model files as third parties ship them, made from the zoo and the npm
 * packages: an ONNX model whose input has other dimensions (a fixed batch of 1
 * as PyTorch exports it by default, symbolic height and width as OCR and
 * detection exports have), and nsfwjs' MobileNetV2 as a TF.js layers folder
 * (model.json and a weight file) that the CLI reads by path.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from '../../src/import/onnx/proto.js';
import { cardPathFor } from '../../src/model/model-card.js';
import { nsfwjsArtifacts } from './tfjs-nsfwjs.js';

/**
 * A copy of the ONNX model at `from` whose first input has the dimensions
 * `dims` (numbers fixed, strings symbolic), written to `to`, with the model
 * card beside it (the same preprocessing, so that results compare).
 */
export function withInputDims(from: string, to: string, dims: readonly (number | string)[]): string {
  const model = onnx.ModelProto.decode(new Uint8Array(readFileSync(from)));
  const shape = model.graph!.input![0]!.type!.tensorType!.shape!;
  shape.dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  // The exporter's intermediate shapes would contradict the new ones: shape inference redoes them.
  model.graph!.valueInfo = [];
  const batch = dims[0];
  for (const o of model.graph!.output ?? []) {
    const od = o.type?.tensorType?.shape?.dim;
    if (od != null && od.length > 0) od[0] = typeof batch === 'number' ? { dimValue: batch } : { dimParam: batch };
  }
  writeFileSync(to, onnx.ModelProto.encode(model).finish());
  const card = cardPathFor(from);
  if (existsSync(card)) copyFileSync(card, cardPathFor(to));
  return to;
}

/** nsfwjs' MobileNetV2 (TF.js layers, NHWC [N, 224, 224, 3], 5 classes) as a folder with model.json and one weight file. */
export function nsfwjsModelDir(dir: string): string {
  const a = nsfwjsArtifacts();
  mkdirSync(dir, { recursive: true });
  const json = a.modelJson as { weightsManifest: Array<{ paths: string[]; weights: unknown[] }> };
  // One shard holding every group's weights, in manifest order (the order the shards concatenate in).
  const manifest = [{ paths: ['weights.bin'], weights: json.weightsManifest.flatMap((g) => g.weights) }];
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...json, weightsManifest: manifest }));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  return join(dir, 'model.json');
}
