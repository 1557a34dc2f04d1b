import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import { loadModel } from '../../src/model/load-model.js';
import { modelBytes, realInputs, zooModels } from '../helpers/zoo.js';

/**
 * Whole zoo models (exported by PyTorch) against ONNX Runtime on real test
 * images. Error measure: max |ours - ort| / max |ort| over every output value of the batch.
 */
const MAX_RELATIVE_ERROR = 1e-4;

describe('zoo models against ONNX Runtime', () => {
  const models = zooModels();
  it('has models to check', () => expect(models.length).toBeGreaterThanOrEqual(4));

  for (const model of models) {
    for (const simplified of [false, true]) {
      it(`${model.name} (${simplified ? 'simplified' : 'as imported'}) on 16 test images`, async () => {
        const x = await realInputs(model, 0, 16);
        const session = await ort.InferenceSession.create(modelBytes(model));
        const inputName = session.inputNames[0]!;
        const ref = await session.run({ [inputName]: new ort.Tensor('float32', x.data, x.shape) });
        const graph = loadModel(modelBytes(model), { simplify: simplified });
        const ours = runGraph(graph, { [graph.inputs[0]!.name]: x });
        for (const name of session.outputNames) {
          const want = ref[name]!.data as Float32Array;
          const got = ours[name]!;
          expect(got.shape).toEqual([...ref[name]!.dims]);
          let maxDiff = 0;
          let maxRef = 0;
          want.forEach((v, i) => {
            maxDiff = Math.max(maxDiff, Math.abs(got.data[i]! - v));
            maxRef = Math.max(maxRef, Math.abs(v));
          });
          expect(maxDiff / maxRef, `${model.name} ${name}: max diff ${maxDiff} of max |ref| ${maxRef}`).toBeLessThan(MAX_RELATIVE_ERROR);
        }
        await session.release();
      });
    }
  }
});
