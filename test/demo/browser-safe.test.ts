import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The demo page (and any browser user) must never pull a Node built-in
 * through its imports: Vite would externalize it and the page would die at
 * run time. Follow the relative imports from the demo's entry and list every
 * `node:` module (or Node-only package) reached, with the chain that reaches it.
 */
/** Packages built on Node's streams and modules: a page that imports them dies at load (pngjs: `util.inherits`). */
const NODE_ONLY = ['pngjs', 'onnxruntime-node', 'puppeteer-core', 'esbuild', 'webgpu'];

function nodeImports(entry: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  const visit = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (/^import\s+type\s/.test(m[0].trim()) || /^export\s+type\s/.test(m[0].trim())) continue;
      if (spec.startsWith('node:') || NODE_ONLY.includes(spec)) found.push([...chain, file, spec].join(' -> '));
      else if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), [...chain, file]);
    }
  };
  visit(resolve(entry), []);
  return found;
}

describe('browser bundles', () => {
  it('the demo page reaches no Node built-in module', () => {
    expect(nodeImports('demo/main.ts')).toEqual([]);
  });

  it("the public API (quantgpu) and the Chromium runner's page reach none either", () => {
    expect(nodeImports('src/index.ts')).toEqual([]);
    expect(nodeImports('src/host/page-entry.ts')).toEqual([]);
  });

  it('the Node entry (quantgpu/node) does reach them: the check sees what it must', () => {
    expect(nodeImports('src/node.ts').length).toBeGreaterThan(0);
  });
});
