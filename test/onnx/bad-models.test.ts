import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { BAD_MODELS } from '../helpers/bad-models.js';

/** Bad model files give typed errors that name what is wrong; never a crash or a hang. */
describe('bad model files', () => {
  for (const [what, c] of Object.entries(BAD_MODELS)) {
    it(`rejects ${what} with ${c.error.name}`, () => {
      let caught: unknown;
      try {
        importOnnx(c.bytes());
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(c.error);
      expect((caught as Error).message).toMatch(c.message);
    });
  }
});
