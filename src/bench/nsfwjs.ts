import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import type { TfjsArtifacts } from '../import/tfjs/index.js';

/**
 * nsfwjs' TF.js models (a dev dependency: the benches' and tests' TF.js
 * networks with trained weights). nsfwjs ships them as UMD bundles:
 * `model.min.js` exports the model.json as a JavaScript object literal (not
 * JSON: `!1`, unquoted keys), and each `<shard>.min.js` exports the shard's
 * bytes as one base64 string. Both are CommonJS modules of a trusted
 * dependency, so `require` reads them.
 */
export function nsfwjsArtifacts(model = 'mobilenet_v2'): TfjsArtifacts {
  const require = createRequire(import.meta.url);
  let models: string;
  try {
    models = join(dirname(require.resolve('nsfwjs')), '../models');
  } catch {
    throw new InputError('nsfwjs is not installed (a dev dependency: npm ci installs it)');
  }
  const modelJson = require(join(models, model, 'model.min.js')) as { weightsManifest: Array<{ paths: string[] }> };
  const shards = modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => Buffer.from(require(join(models, model, `${p}.min.js`)) as string, 'base64'));
  const all = Buffer.concat(shards);
  return { modelJson, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}
