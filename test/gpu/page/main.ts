/**
 * The browser side of the GPU tests: one device and one pipeline cache for the
 * page's life, and the shared test programs behind window.quantgpuTest.
 */
import { requestGpu, type Gpu } from '../../../src/gpu/device.js';
import { PipelineCache } from '../../../src/gpu/pipeline-cache.js';
import type { QuantgpuTestApi } from '../harness/page-api.js';
import { runChecked } from '../harness/run-checked.js';

let session: Promise<{ gpu: Gpu; cache: PipelineCache }> | undefined;

const api: QuantgpuTestApi = {
  async init() {
    session ??= requestGpu().then((gpu) => ({ gpu, cache: new PipelineCache(gpu.device) }));
    return (await session).gpu.facts;
  },
  async run(name, args) {
    if (session === undefined) throw new Error('quantgpuTest.run before init()');
    const { gpu, cache } = await session;
    return runChecked(gpu, cache, name, args);
  },
};

window.quantgpuTest = api;
