/**
 * The browser side of the GPU tests, bundled by the Chromium runner as its
 * page's script (hosts.ts): the runner's own page (page-entry, which serves
 * sessions and the checks) and, on its device, the shared test programs
 * behind window.quantgpuTest.
 */
import { currentGpu } from '../../../src/host/page-entry.js';
import type { Gpu } from '../../../src/gpu/device.js';
import { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import type { QuantgpuTestApi } from '../harness/page-api.js';
import { runChecked } from '../harness/run-checked.js';

// One pipeline cache per device: a lost device's pipelines are of no use to the next.
let cached: { gpu: Gpu; cache: PipelineCache } | undefined;

const api: QuantgpuTestApi = {
  async run(name, args) {
    const gpu = await currentGpu();
    if (cached?.gpu !== gpu) cached = { gpu, cache: new PipelineCache(gpu.device) };
    return runChecked(gpu, cached.cache, name, args);
  },
};

window.quantgpuTest = api;
