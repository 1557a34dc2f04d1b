import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundles = new Map<string, Promise<string>>();

/**
 * A worker thread's program as one CommonJS text (`new Worker(code, { eval: true })`):
 * the entry module beside `base` (its .ts source when running from source, its
 * compiled .js in the package) bundled by esbuild, once per process. Workers
 * run from the same text whether the caller runs under tsx, vitest or plain
 * Node, which a worker given a .ts path would not. `external` packages stay
 * out of the bundle (a native addon is required by its resolved path).
 */
export function nodeWorkerBundle(entry: string, base: string, external: readonly string[] = []): Promise<string> {
  const here = (ext: string): string => fileURLToPath(new URL(`./${entry}${ext}`, base));
  const key = here('');
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = (async () => {
      const file = [here('.ts'), here('.js')].find(existsSync);
      if (file === undefined) throw new Error(`the worker entry is missing: ${here('.ts')} or ${here('.js')}`);
      const { build } = await import('esbuild');
      const out = await build({ entryPoints: [file], bundle: true, format: 'cjs', platform: 'node', target: 'node20', write: false, logLevel: 'silent', external: [...external] });
      return out.outputFiles[0]!.text;
    })();
    bundles.set(key, bundle);
    bundle.catch(() => bundles.delete(key));
  }
  return bundle;
}
