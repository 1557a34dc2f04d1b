/**
 * Equalized weights and analytic bias correction are ordinary integers: the
 * GPU equals the golden model bit for bit on such configs, on both runners.
 */
import { expect, it } from 'vitest';
import { runQuantized } from '../../src/cpu/golden/golden-executor.js';
import { loadModelFile } from '../../src/model/load-model-file.js';
import { PRESETS, type LayerQuant, type QuantConfig } from '../../src/quant/config.js';
import { calibrate, quantize } from '../../src/quant/pipeline.js';
import { describeOnHosts } from '../gpu/harness/on-hosts.js';
import { realInputs, zooModels } from '../helpers/zoo.js';

const w4: LayerQuant = { ...(PRESETS.w4a8!.default as LayerQuant), weightGranularity: 'per-tensor', biasCorrection: 'analytic' };
const configs: QuantConfig[] = [
  { name: 'w4a8 per-tensor, equalized, analytic bias correction', default: w4, equalize: true },
  { name: 'w8a8, equalized', default: PRESETS.w8a8!.default, equalize: true },
];

describeOnHosts(
  (host) => {
    for (const name of ['fashion-vgg', 'fashion-mbv2']) {
      it(`${name}: equal to the golden executor on equalized configs, batch 4`, async () => {
        const model = zooModels().find((m) => m.name === name)!;
        const graph = loadModelFile(model.path);
        const stats = await calibrate(graph, await realInputs(model, 100, 64), { equalize: true });
        const x = await realInputs(model, 0, 4);
        const input = graph.inputs[0]!.name;
        for (const config of configs) {
          const qg = quantize(graph, stats, config);
          expect(qg.float.equalization!.equalized.length, `${config.name}: pairs equalized`).toBeGreaterThan(0);
          const golden = runQuantized(qg, { [input]: x });
          const session = await host().runner.createSession(qg);
          try {
            const gpu = await session.run(x);
            for (const [t, ints] of Object.entries(golden.integers)) {
              const got = gpu.integers[t]!;
              const bad = ints.findIndex((v, i) => v !== got[i]);
              expect(bad, `${config.name}: first differing code of '${t}' (golden ${ints[bad]}, gpu ${got[bad]})`).toBe(-1);
            }
          } finally {
            await session.dispose();
          }
        }
      }, 300_000);
    }
  },
  { title: 'equalized configs' },
);
