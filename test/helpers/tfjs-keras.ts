import * as tf from '@tensorflow/tfjs';
import type { TfjsArtifacts } from '../../src/import/tfjs/index.js';
import { mulberry32 } from './random.js';

/** A seeded generator, so that the models are the same on every run. */
export const rng = mulberry32;

/**
 * Give every weight seeded values in [-0.5, 0.5), and BatchNorm statistics
 * that move the data (variances positive), so that no layer is an identity
 * by accident of its initialiser.
 */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const next = rng(seed);
  model.setWeights(
    model.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const positive = /moving_variance|gamma/.test(w.originalName);
      return tf.tensor(Float32Array.from({ length: n }, () => (positive ? 0.5 + next() : next() - 0.5)), shape);
    }),
  );
}

/** Save a model through TF.js's own serialisation: the model.json and shard a user would hold. */
export async function saveArtifacts(model: tf.LayersModel): Promise<TfjsArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved!;
  const data = a.weightData;
  const parts = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    weightData.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  const modelJson = { format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }] };
  return { modelJson, weightData: weightData.buffer };
}
