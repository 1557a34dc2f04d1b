/**
 * Device acquisition failing the way it should: with GpuUnavailableError and
 * a message listing what was tried, in Node and in the browser. (Succeeding
 * is shown by every other GPU test.)
 */
import { describe, expect, it } from 'vitest';
import { GpuUnavailableError } from '../../src/errors.js';
import { requestGpu, SWIFTSHADER_ICD, vulkanFallback } from '../../src/gpu/device.js';
import { CHROMIUM_FLAGS } from '../../src/host/chromium-runner.js';
import { startBrowserHost } from './harness/hosts.js';

describe('vulkanFallback (which Vulkan driver Node falls back on)', () => {
  it('points the loader at the ICD only when no variable chooses drivers and the file exists', () => {
    expect(vulkanFallback({}, SWIFTSHADER_ICD, true)).toEqual({ use: SWIFTSHADER_ICD });
    expect(vulkanFallback({ VK_ICD_FILENAMES: '' }, SWIFTSHADER_ICD, true)).toEqual({ use: SWIFTSHADER_ICD });
    for (const v of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES']) {
      expect(vulkanFallback({ [v]: '/x/icd.json' }, SWIFTSHADER_ICD, true)).toEqual({ skip: `fallback ${SWIFTSHADER_ICD} not used: ${v} already chooses the drivers` });
    }
    expect(vulkanFallback({}, SWIFTSHADER_ICD, false)).toEqual({ skip: expect.stringMatching(/no such file/) });
    expect(vulkanFallback({}, null, true)).toEqual({ skip: expect.stringMatching(/fallbackVulkanIcd: null/) });
  });
});

describe('requestGpu in Node', () => {
  it('rejects an adapter the host cannot give with GpuUnavailableError listing driver and flags', async () => {
    const error = await requestGpu({ dawnFlags: ['adapter=no-such-adapter'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuUnavailableError);
    const e = error as GpuUnavailableError;
    expect(e.message).toMatch(/^no WebGPU adapter; tried: Node webgpu package, .*create\(\["adapter=no-such-adapter"\]\): threw no suitable backends found/);
    expect(e.tried.length).toBeGreaterThanOrEqual(1);
  });

  it('rejects a required feature the adapter lacks, naming it', async () => {
    const error = await requestGpu({ requiredFeatures: ['texture-formats-tier2', 'timestamp-query'] }).catch((e: unknown) => e);
    // SwiftShader lacks texture-formats-tier2; on an adapter that has it, this test says so.
    expect(error, 'the adapter has texture-formats-tier2: pick a feature it lacks').toBeInstanceOf(GpuUnavailableError);
    expect((error as Error).message).toMatch(/^the adapter lacks required feature\(s\) texture-formats-tier2; tried: /);
  });
});

describe('requestGpu in the browser', () => {
  it('fails with GpuUnavailableError naming the browser flags when WebGPU is not enabled', async () => {
    const flags = CHROMIUM_FLAGS.filter((f) => f !== '--enable-unsafe-webgpu');
    const error = await startBrowserHost({ flags }).then(
      async (host) => {
        await host.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error, 'Chromium gave a WebGPU device without --enable-unsafe-webgpu').toBeInstanceOf(GpuUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(/^no WebGPU device in the browser; tried: .*--headless=new --no-sandbox --disable-background-networking/);
    expect(message).toMatch(/no WebGPU adapter; tried: navigator\.gpu in .*HeadlessChrome.*: requestAdapter\(\{\}\) gave null/);
    console.log(message);
  });
});
