/** quantgpu's public API. */
export * from './errors.js';
export type { Graph, Constant, TensorInfo } from './ir/graph.js';
export type { Layer, LayerOp, Activation, AutoPad } from './ir/layers.js';
export type { Dim, Shape } from './ir/shape.js';
export { summarize, formatSummary, type GraphSummary, type LayerSummary } from './ir/summary.js';
export { simplify, SIMPLIFY_PASSES } from './ir/simplify.js';
export { importOnnx, SUPPORTED_ONNX_OPS, type OnnxImportOptions } from './import/onnx/import-onnx.js';
export { loadModel, type LoadOptions } from './model/load-model.js';
export { runGraph, bindInputs, type RunOptions } from './cpu/float-executor.js';
export type { Tensor } from './cpu/tensor.js';
export { readNpy, writeNpy } from './io/npy.js';
