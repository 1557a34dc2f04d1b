import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TfjsArtifacts } from '../../src/import/tfjs/index.js';

/**
 * nsfwjs ships its TF.js models as UMD bundles: `model.min.js` exports the
 * model.json as a JavaScript object literal (not JSON: `!1`, unquoted keys),
 * and each `<shard>.min.js` exports the shard's bytes as one base64 string.
 * Both are CommonJS modules of a trusted dependency, so `require` reads them.
 */
const MODELS = join(import.meta.dirname, '../../node_modules/nsfwjs/dist/models');

export function nsfwjsArtifacts(model = 'mobilenet_v2'): TfjsArtifacts {
  const require = createRequire(import.meta.url);
  const modelJson = require(join(MODELS, model, 'model.min.js')) as { weightsManifest: Array<{ paths: string[] }> };
  const shards = modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => Buffer.from(require(join(MODELS, model, `${p}.min.js`)) as string, 'base64'));
  const all = Buffer.concat(shards);
  return { modelJson, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}
