import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Tensor } from '../cpu/tensor.js';
import type { TensorInfo } from '../ir/graph.js';
import { imageInputOf } from '../eval/evaluate.js';
import { decodeTensorFile } from '../import/onnx/tensor-proto.js';
import { decodeImage, DEFAULT_PREPROCESSING, imageToTensor, type Preprocessing } from '../io/image.js';
import { readNpy } from '../io/npy.js';

/** Read one input tensor from `.npy`, an ONNX TensorProto `.pb`, or a PNG/JPEG image (laid out as the input is; `layout` from a model card breaks a tie). */
export function readInputFile(path: string, input: TensorInfo, pre: Preprocessing | undefined, layout?: string): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read input ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lower = path.toLowerCase();
  if (lower.endsWith('.npy')) return readNpy(bytes, path);
  if (lower.endsWith('.pb')) {
    const t = decodeTensorFile(bytes, path);
    if (t.kind !== 'float') throw new InputError(`${path}: integer tensors cannot feed the float input '${input.name}'`);
    return { shape: t.dims, data: t.data };
  }
  if (/\.(png|jpe?g)$/.test(lower)) {
    // The model's layout: channels first (NCHW) or last (NHWC, as TF.js models).
    const { size: [c, h, w], layout: imageLayout } = imageInputOf(input, layout);
    return imageToTensor(decodeImage(bytes, path), c, h, w, pre ?? DEFAULT_PREPROCESSING, imageLayout);
  }
  throw new InputError(`${path}: unknown input format (use .npy, .pb, .png or .jpg)`);
}
