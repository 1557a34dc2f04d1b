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

const LAYOUTS = [
  { layout: 'ort-qdq', what: "ONNX Runtime quantize_static's QDQ layout" },
  { layout: 'torch-ao', what: 'torch.ao eager static quantization (qnnpack), torch.onnx.export' },
] as const;

let files: ThirdPartyFile[] | undefined;

/**
 * The fashion-vgg zoo model quantized in each layout (a few seconds each with
 * Debian's python3-torch and python3-onnx), in a temporary folder with the
 * zoo model's card beside each file.
 */
export function thirdPartyFiles(): ThirdPartyFile[] {
  if (files) return files;
  const source = zooModels().find((m) => m.name === 'fashion-vgg')!;
  const dir = mkdtempSync(join(tmpdir(), 'quantgpu-third-party-'));
  files = LAYOUTS.map(({ layout }) => {
    const path = join(dir, `fashion-vgg.${layout}.onnx`);
    execFileSync('/usr/bin/python3', [join(MODELS_DIR, '../tools/train/quantized.py'), '--model', source.path, '--arch', 'vgg', '--layout', layout, '--calib', '256', '--out', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    copyFileSync(source.path.replace(/\.onnx$/, '.json'), path.replace(/\.onnx$/, '.json'));
    return { name: `fashion-vgg ${layout}`, path, source };
  });
  return files;
}

export const THIRD_PARTY_LAYOUTS = LAYOUTS;
