import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS_DIR, zooModels, type ZooModel } from './zoo.js';

/** A zoo model quantized by another tool's layout, written at test time by tools/train/quantized.py. */
export interface ThirdPartyFile {
  name: string;
  path: string;
  /** The zoo model it was quantized from (its card: dataset and preprocessing). */
  source: ZooModel;
}

/** What is written, and the layers each file leaves in float (the importer must name them). */
const LAYOUTS = [
  { model: 'fashion-vgg', arch: 'vgg', layout: 'ort-qdq', what: "ONNX Runtime quantize_static's QDQ layout", floatLayers: [] },
  { model: 'fashion-resnet', arch: 'resnet', layout: 'ort-qdq', what: "ONNX Runtime quantize_static's QDQ layout, GlobalAveragePool left in float", floatLayers: ['/pool/GlobalAveragePool', '/Flatten'] },
  { model: 'fashion-vgg', arch: 'vgg', layout: 'torch-ao', what: 'torch.ao eager static quantization (qnnpack), torch.onnx.export', floatLayers: [] },
] as const;

let files: ThirdPartyFile[] | undefined;

/**
 * Zoo models quantized in each layout (a few seconds each with
 * Debian's python3-torch and python3-onnx), in a temporary folder with the
 * zoo model's card beside each file.
 */
export function thirdPartyFiles(): ThirdPartyFile[] {
  if (files) return files;
  const dir = mkdtempSync(join(tmpdir(), 'quantgpu-third-party-'));
  files = LAYOUTS.map(({ model, arch, layout }) => {
    const source = zooModels().find((m) => m.name === model)!;
    const path = join(dir, `${model}.${layout}.onnx`);
    execFileSync('/usr/bin/python3', [join(MODELS_DIR, '../tools/train/quantized.py'), '--model', source.path, '--arch', arch, '--layout', layout, '--calib', '256', '--out', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    copyFileSync(source.path.replace(/\.onnx$/, '.json'), path.replace(/\.onnx$/, '.json'));
    return { name: `${model} ${layout}`, path, source };
  });
  return files;
}

export const THIRD_PARTY_LAYOUTS = LAYOUTS;
