import { readFileSync } from 'node:fs';
import { calibrate, createSession, formatProfile, loadImages, loadModel, PRESETS, quantize } from '../src/node.js';

// Import, calibrate on 256 training images, quantize to 4-bit weights and 8-bit activations.
const model = loadModel(readFileSync('models/fashion-vgg.onnx'));
const calib = await loadImages('fashion-mnist', model, { split: 'train', count: 256, modelPath: 'models/fashion-vgg.onnx' });
const stats = await calibrate(model, calib.x);
const q = quantize(model, stats, PRESETS.w4a8!);

// Run 64 test images on the GPU with integer kernels, then profile one batch per layer.
const test = await loadImages('fashion-mnist', model, { count: 64, modelPath: 'models/fashion-vgg.onnx' });
const session = await createSession(q);
try {
  const { outputs } = await session.run(test.x);
  const logits = Object.values(outputs)[0]!;
  let correct = 0;
  for (let i = 0; i < test.labels.length; i++) {
    const row = logits.data.subarray(i * 10, i * 10 + 10);
    if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
  }
  console.log(`w4a8 on the GPU: ${correct}/${test.labels.length} correct`);
  console.log(formatProfile(await session.profile(test.x, { repeats: 5 })));
} finally {
  session.dispose();
}
