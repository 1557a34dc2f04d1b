/**
 * A MobileNetV2 at 224x224 as an ONNX file for the benches: nsfwjs'
 * TF.js layers model (trained weights; an npm dev dependency) imported and
 * written back out by quantgpu's ONNX writer, with a model card beside it
 * (pixels / 255, NHWC input as in TF.js). Made once under bench/.cache/.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { graphToOnnx } from '../src/export/onnx/float-graph.js';
import { loadTfjsModel } from '../src/model/load-model.js';
import { nsfwjsArtifacts } from '../test/helpers/tfjs-nsfwjs.js';

export const BENCH_CACHE = join(dirname(fileURLToPath(import.meta.url)), '.cache');

/** The path of bench/.cache/mobilenetv2-224.onnx, written now unless it is there. */
export function mobilenetV2Onnx(): string {
  const path = join(BENCH_CACHE, 'mobilenetv2-224.onnx');
  if (existsSync(path)) return path;
  mkdirSync(BENCH_CACHE, { recursive: true });
  const graph = loadTfjsModel(nsfwjsArtifacts());
  writeFileSync(path, graphToOnnx(graph));
  const card = {
    name: 'mobilenetv2-224',
    architecture: 'MobileNetV2 1.0 at 224x224 (nsfwjs, TF.js layers), written to ONNX by quantgpu',
    input: { name: graph.inputs[0]!.name, shape: graph.inputs[0]!.shape, layout: 'NHWC', scale: 1 / 255, mean: [0], std: [1] },
    classes: ['drawing', 'hentai', 'neutral', 'porn', 'sexy'],
  };
  writeFileSync(path.replace(/\.onnx$/, '.json'), JSON.stringify(card, null, 2) + '\n');
  return path;
}
