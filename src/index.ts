/** quantgpu's public API. */
export * from './errors.js';
export type { Graph, Constant, TensorInfo } from './ir/graph.js';
export type { Layer, LayerOp, Activation, AutoPad } from './ir/layers.js';
export type { Dim, Shape } from './ir/shape.js';
export { summarize, formatSummary, type GraphSummary, type LayerSummary } from './ir/summary.js';
export { simplify, SIMPLIFY_PASSES } from './ir/simplify.js';
export { importOnnx, SUPPORTED_ONNX_OPS, type OnnxImportOptions } from './import/onnx/import-onnx.js';
export { loadModel, loadQuantizedModel, type LoadOptions } from './model/load-model.js';
export { importQuantizedOnnx, isQuantizedOnnx, QUANTIZED_ONNX_OPS, type ImportedQuantized } from './import/onnx/quantized/import-quantized.js';
export { runGraph, bindInputs, type RunOptions } from './cpu/float-executor.js';
export type { Tensor } from './cpu/tensor.js';
export { readNpy, writeNpy } from './io/npy.js';
export { calibrate, quantize, type QuantizeOptions } from './quant/pipeline.js';
export { refine, type RefineOptions, type RefineProgress } from './quant/refine/refine.js';
export { refinementToFile, refinementFromFile, type Refinement, type LayerRefinement, type RefinementFile } from './quant/refine/refinement.js';
export { gpuProblems, validateForGpu } from './runtime/validate.js';
export { PRESETS, layerSetting, type QuantConfig, type LayerQuant, type LayerSetting, type Bits, type Scheme } from './quant/config.js';
export { parseQuantConfig, resolveQuantConfig, quantConfigToJson, QUANT_CONFIG_SCHEMA } from './quant/config-json.js';
export { statsToFile, statsFromFile } from './quant/calibration/stats-file.js';
export { CalibratedTensors } from './quant/calibration/calibrated-tensors.js';
export { prepareForQuantization, type PrepareOptions } from './quant/prepare.js';
export { formatEqualization, type EqualizationSummary, type EqualizedPair, type SkippedPair } from './ir/passes/cross-layer-equalization.js';
export type { AnalyticBiasCorrection } from './quant/bias-correction.js';
export type { TensorStats } from './quant/calibration/tensor-stats.js';
export type { QuantizedGraph, QLayer } from './quant/quantized-graph.js';
export type { QParams } from './quant/qparams.js';
export { runQuantized, type GoldenResult } from './cpu/golden/golden-executor.js';
export { fakeQuantGraph, runFakeQuant } from './quant/fake-quant.js';
export {
  createFloatExecutor,
  createFakeQuantExecutor,
  EXECUTOR_CHOICES,
  type GraphExecutor,
  type ExecutorChoice,
  type ExecutorKind,
  type ExecutorOptions,
} from './executor/executor.js';
export { graphToOnnx, type WriteGraphOptions } from './export/onnx/float-graph.js';
export { fakeQuantToOnnx } from './export/onnx/fake-quant.js';
export { qdqToOnnx } from './export/onnx/qdq.js';
export { qonnxToOnnx } from './export/onnx/qonnx.js';
export type { CollectOptions as CalibrateOptions } from './quant/calibrate-graph.js';
export { costReport, type CostReport } from './quant/cost.js';
export { tensorSqnr, agreement } from './quant/measures.js';
export { requestGpu, type Gpu, type RequestGpuOptions } from './gpu/device.js';
export type { DawnPolling } from './gpu/dawn-polling.js';
export { formatAdapterFacts, type AdapterFacts } from './gpu/adapter-info.js';
export { createSession, Session, type SessionOptions, type SessionResult, type MemoryReport } from './runtime/session.js';
export { formatProfile, type SessionProfile, type LayerProfile } from './runtime/profile.js';
export type { PlanOptions } from './runtime/plan-graph.js';
export { Evaluator, EVAL_BACKENDS, type EvalBackend, type EvalSet, type Evaluation, type EvaluatorOptions } from './search/evaluator.js';
export { search, SEARCH_METHODS, type SearchMethod, type SearchOptions, type SearchResult, type TraceEntry } from './search/search.js';
export { sweep, sweepConfigs, DEFAULT_SWEEP, type SweepGrid, type SweepPoint } from './search/sweep.js';
export { sensitivity, gpuLayerTimes, type SensitivityCell, type LayerTimes } from './search/sensitivity.js';
export { CostModel, OBJECTIVES, type Objective } from './search/cost-model.js';
export { assignmentConfig, searchSpace, SEARCH_BASE, type Assignment, type SearchSpace } from './search/space.js';
export { paretoFront } from './search/pareto.js';
export { mergeResults, parseResults, type ResultsDoc } from './search/results.js';
export { reportCharts, type ChartSpec } from './search/report/charts.js';
