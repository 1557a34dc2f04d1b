/**
 * Images per second of whole models on the GPU, side by side in one run: each
 * zoo model and nsfwjs' MobileNetV2 (a TF.js layers model, 224x224) at float32,
 * w8a8 and w4a8, through one runner (default host node: the `webgpu` package in
 * this process; --gpu browser runs them in headless Chromium). With --cpu,
 * the CPU float executor and the golden integer executor on the same batches
 * for reference.
 *
 *   npx tsx bench/gpu-models.bench.ts [--gpu node|browser] [--quick] [--cpu] [--json]
 *
 * A rate is batch / the median wall time of a run (upload, every kernel,
 * readback) over the repeats after a warm-up run; the session is built and
 * its kernels chosen before timing. Calibration: 256 training images (zoo),
 * 4 photos (nsfwjs).
 */
import { runGraph } from '../src/cpu/float-executor.js';
import { runQuantized } from '../src/cpu/golden/golden-executor.js';
import type { Tensor } from '../src/cpu/tensor.js';
import { describeAdapter } from '../src/eval/gpu-backend.js';
import { gpuHostChoices, openGpuRunner, parseGpuHost } from '../src/host/gpu-runner.js';
import { importTfjs } from '../src/import/tfjs/import-tfjs.js';
import type { Graph } from '../src/ir/graph.js';
import { simplify } from '../src/ir/simplify.js';
import { loadModelFile } from '../src/model/load-model-file.js';
import { PRESETS } from '../src/quant/config.js';
import { calibrate, quantize } from '../src/quant/pipeline.js';
import type { QuantizedGraph } from '../src/quant/quantized-graph.js';
import { formatTable } from './table.js';
import { median } from '../src/gpu/time-kernels.js';
import { nsfwjsArtifacts } from '../test/helpers/tfjs-nsfwjs.js';
import { photoBatch } from '../test/helpers/tfjs-reference.js';
import { realInputs, zooModels } from '../test/helpers/zoo.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const hostWord = arg('--gpu') ?? 'node';
const host = parseGpuHost(hostWord);
if (host === undefined) throw new Error(`--gpu ${hostWord}: choose one of ${gpuHostChoices()}`);
const quick = process.argv.includes('--quick');
const withCpu = process.argv.includes('--cpu');
const json = process.argv.includes('--json');
const repeats = quick ? 2 : 5;

interface BenchModel {
  readonly name: string;
  readonly graph: Graph;
  readonly calib: Tensor;
  readonly x: Tensor;
}

async function models(): Promise<BenchModel[]> {
  const out: BenchModel[] = [];
  for (const m of zooModels()) {
    const graph = loadModelFile(m.path);
    out.push({ name: m.name, graph, calib: await realInputs(m, 0, 256), x: await realInputs(m, 1000, quick ? 16 : 64) });
  }
  const pre = { scale: 1 / 255, mean: [0], std: [1] };
  out.push({
    name: 'nsfwjs MobileNetV2 224',
    graph: simplify(importTfjs(nsfwjsArtifacts())),
    calib: photoBatch(['coffee.png', 'rocket.jpg', 'motorcycle_left.png', 'chelsea.png'], 224, 224, 3, pre),
    x: photoBatch(quick ? ['astronaut.png'] : ['astronaut.png', 'hubble_deep_field.jpg', 'motorcycle_right.png', 'grass.png'], 224, 224, 3, pre),
  });
  return out;
}

async function rate(run: () => Promise<unknown> | unknown, batch: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return (1000 * batch) / median(times);
}

const runner = await openGpuRunner(host);
const adapter = describeAdapter(await runner.facts());
const rows: Array<Record<string, string | number>> = [];
try {
  for (const m of await models()) {
    const batch = m.x.shape[0]!;
    const input = m.graph.inputs[0]!.name;
    const stats = await calibrate(m.graph, m.calib);
    const row: Record<string, string | number> = { model: m.name, batch };
    const variants: Array<[string, Graph | QuantizedGraph]> = [
      ['float', m.graph],
      ['w8a8', quantize(m.graph, stats, PRESETS.w8a8!)],
      ['w4a8', quantize(m.graph, stats, PRESETS.w4a8!)],
    ];
    for (const [label, model] of variants) {
      const session = await runner.createSession(model);
      try {
        row[`gpu ${label}`] = Number((await rate(() => session.run(m.x), batch)).toFixed(1));
      } finally {
        await session.dispose();
      }
      if (withCpu) {
        const cpu = label === 'float' ? () => runGraph(model as Graph, { [input]: m.x }) : () => runQuantized(model as QuantizedGraph, { [input]: m.x });
        row[`cpu ${label === 'float' ? 'float' : `golden ${label}`}`] = Number((await rate(cpu, batch)).toFixed(1));
      }
    }
    rows.push(row);
    if (!json) console.error(JSON.stringify(row));
  }
} finally {
  await runner.close();
}
if (json) console.log(JSON.stringify({ host, adapter, repeats, rows }, null, 2));
else {
  console.log(`images per second, host ${host}, adapter ${adapter}; median of ${repeats} runs after a warm-up`);
  console.log(formatTable(rows));
}
