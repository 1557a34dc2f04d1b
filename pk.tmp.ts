import { requestGpu } from './src/gpu/device.js';
import { PipelineCache } from './src/gpu/pipeline-cache.js';
import { measurePeaks } from './src/gpu/peaks.js';
const gpu = await requestGpu();
console.log(await measurePeaks(gpu.device, new PipelineCache(gpu.device), gpu.facts));
gpu.destroy();
