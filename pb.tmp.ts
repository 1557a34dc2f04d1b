import { collectStats } from './src/quant/calibrate-graph.js';
import { PRESETS } from './src/quant/config.js';
import { quantize } from './src/quant/pipeline.js';
import { prepareForQuantization } from './src/quant/prepare.js';
import { loadModelFile } from './src/model/load-model-file.js';
import { realInputs, zooModels } from './test/helpers/zoo.js';
import { createSession } from './src/runtime/session.js';
import { requestGpu } from './src/gpu/device.js';
const gpu = await requestGpu();
const model = zooModels().find((m) => m.name === (process.argv[2] ?? 'fashion-vgg'))!;
const graph = prepareForQuantization(loadModelFile(model.path));
const { tensors } = await collectStats(graph, [await realInputs(model, 100, 32)]);
const x = await realInputs(model, 0, 8);
for (const cfg of ['w8a8', 'w4a8']) for (const dot4 of [true, false]) {
  const s = await createSession(quantize(graph, tensors, PRESETS[cfg]!), { gpu, dot4 });
  const p = await s.profile(x, { repeats: 3, warmup: 1 });
  console.log(cfg, dot4 ? 'dot4' : 'vec4', 'wall', p.wallMs.toFixed(1), p.layers.filter((l) => l.macs > 100000).map((l) => `${l.op}:${l.gops?.toFixed(2)}`).join(' '));
  s.dispose();
}
const s = await createSession(graph, { gpu });
const p = await s.profile(x, { repeats: 3, warmup: 1 });
console.log('float wall', p.wallMs.toFixed(1), p.layers.filter((l) => l.macs > 100000).map((l) => `${l.op}:${l.gops?.toFixed(2)}`).join(' '));
gpu.destroy();
