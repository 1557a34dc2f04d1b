/**
 * quantgpu's Node entry: the public API (index.ts) and what needs Node's
 * file system, processes or network: model files, datasets, and the GPU
 * runners (the `webgpu` package in this process, or headless Chromium).
 */
export * from './index.js';
export { loadModelFile } from './model/load-model-file.js';
export { loadImages, type LoadImagesOptions } from './data/load-images.js';
export { openDataset, DATASET_NAMES } from './data/open-dataset.js';
export { openGpuRunner, GPU_RUNNERS, type GpuRunner, type GpuRunnerKind, type SessionHandle } from './host/gpu-runner.js';
export { loadEvalSet, validationSet, testSet, type SplitPlan } from './search/sets.js';
export { reportHtml } from './search/report/html.js';
