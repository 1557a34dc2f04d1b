/**
 * quantgpu's Node entry: the public API (index.ts) and what needs Node's
 * file system, processes or network: model files, datasets, and the GPU
 * runners (hosts `node`: the `webgpu` package in this process, or `browser`: headless Chromium).
 */
export * from './index.js';
export { loadModelFile, loadQuantizedModelFile } from './model/load-model-file.js';
export { loadImages, type LoadImagesOptions } from './data/load-images.js';
export { openDataset, DATASET_NAMES } from './data/open-dataset.js';
export { openGpuRunner, parseGpuHost, type GpuRunner, type SessionHandle } from './host/gpu-runner.js';
export { GPU_HOSTS, type GpuHost } from './gpu/adapter-info.js';
export { loadEvalSet, validationSet, testSet, type SplitPlan } from './search/sets.js';
export { reportHtml } from './search/report/html.js';
