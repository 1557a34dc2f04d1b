import { readFileSync } from 'node:fs';
import { ModelFormatError, ShapeError, UnsupportedOperatorError } from '../../src/errors.js';
import { buildModel, randomArray } from './onnx-builder.js';
import { ONNX_TESTDATA } from './onnx-testdata.js';

/** Bad model files, each with the typed error it must raise and what its message must name. */

const conv = (w: number[], extra: Partial<Parameters<typeof buildModel>[0]> = {}): Uint8Array =>
  buildModel({
    inputs: [{ name: 'x', shape: ['N', 3, 8, 8] }],
    outputs: [{ name: 'y' }],
    nodes: [{ op: 'Conv', name: 'conv1', inputs: ['x', 'W'], outputs: ['y'], attrs: { kernel_shape: [3, 3] } }],
    initializers: { W: { dims: w, data: randomArray(w.reduce((a, b) => a * b, 1), 1) } },
    ...extra,
  });

export interface BadModel {
  bytes: () => Uint8Array;
  error: new (...a: never[]) => Error;
  message: RegExp;
}

export const BAD_MODELS: Record<string, BadModel> = {
  'an empty file': { bytes: () => new Uint8Array(0), error: ModelFormatError, message: /empty/ },
  'a truncated model': {
    bytes: () => new Uint8Array(readFileSync(`${ONNX_TESTDATA}/pytorch-converted/test_Conv2d/model.onnx`)).subarray(0, 300),
    error: ModelFormatError,
    message: /truncated|not a readable ONNX model|raw data/,
  },
  'a PNG file (wrong magic)': {
    bytes: () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]),
    error: ModelFormatError,
    message: /ONNX/,
  },
  'a graph with a cycle': {
    bytes: () =>
      buildModel({
        inputs: [{ name: 'x', shape: [1, 4] }],
        outputs: [{ name: 'c' }],
        nodes: [
          { op: 'Add', name: 'a', inputs: ['x', 'c'], outputs: ['b'] },
          { op: 'Relu', name: 'r', inputs: ['b'], outputs: ['c'] },
        ],
      }),
    error: ModelFormatError,
    message: /cycle/,
  },
  'a missing initializer': {
    bytes: () => conv([4, 3, 3, 3], { initializers: {} }),
    error: ModelFormatError,
    message: /conv1.*'W'/,
  },
  'weights whose channels disagree with the input': {
    bytes: () => conv([4, 5, 3, 3]),
    error: ShapeError,
    message: /conv1.*input channels/,
  },
  'a declared output shape that disagrees': {
    bytes: () => conv([4, 3, 3, 3], { outputs: [{ name: 'y', shape: ['N', 4, 7, 7] }] }),
    error: ShapeError,
    message: /'y'.*\[N,4,7,7\].*\[N,4,6,6\]/,
  },
  'an unsupported operator': {
    bytes: () =>
      buildModel({
        inputs: [{ name: 'x', shape: [1, 4] }],
        outputs: [{ name: 'y' }],
        nodes: [{ op: 'Erf', name: 'gelu_part', inputs: ['x'], outputs: ['y'] }],
      }),
    error: UnsupportedOperatorError,
    message: /gelu_part.*Erf/,
  },
  'an opset out of range': {
    bytes: () => conv([4, 3, 3, 3], { opset: 99 }),
    error: ModelFormatError,
    message: /opset 99/,
  },
};

