/**
 * A browser that dies under the Chromium runner (a crash, an OOM kill): the
 * runs of its sessions reject with DeviceLostError, disposing them is a no-op,
 * nothing of it is left (no process of its group, no profile folder), and the
 * runner's next session starts a new browser and gives the same outputs, as
 * NodeRunner gets a new device after a lost one; closing the runner leaves
 * nothing of the new browser either. This test holds
 * its own runner rather than going through describeOnHosts: the wrapper's
 * checks live in the very page it kills (they run again on the new page).
 */
import { describe, expect, it } from 'vitest';
import { DeviceLostError } from '../../src/errors.js';
import { launchChromiumRunner } from '../../src/host/chromium-runner.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { browserTraces, expectBrowserGone } from '../helpers/processes.js';
import { realInputs, zooModels } from '../helpers/zoo.js';

describe('the Chromium runner when its browser dies', () => {
  it('a run on the dead browser is a DeviceLostError, nothing of it is left; the next session starts a new browser, clean, with equal outputs', async () => {
    const model = zooModels().find((m) => m.name === 'digits-vgg')!;
    const graph = loadModelFile(model.path);
    const x = await realInputs(model, 0, 2);
    const runner = await launchChromiumRunner();
    try {
      const first = await runner.createSession(graph);
      const before = await first.run(x);
      const dead = browserTraces(runner.page.browser().process()!.pid!);
      runner.page.browser().process()!.kill('SIGKILL');
      const e = await first.run(x).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(DeviceLostError);
      expect((e as Error).message).toMatch(/^the GPU device was lost \(browser\): the Chromium runner's page or browser went away/);
      await first.dispose();
      await expectBrowserGone(dead);
      await runner.beginChecks();
      const second = await runner.createSession(graph);
      const live = browserTraces(runner.page.browser().process()!.pid!);
      const after = await second.run(x);
      await second.dispose();
      const checks = await runner.endChecks();
      expect(after.outputs).toEqual(before.outputs);
      expect(checks).toEqual({ gpuErrors: [], leakedBuffers: [] });
      await runner.close();
      await expectBrowserGone(live);
    } finally {
      await runner.close();
    }
  }, 120_000);
});
