#!/usr/bin/env node
// The CLI's entry point. A published package runs the compiled CLI (dist/, made by
// `npm run build` before publishing); a checkout after `npm ci` has no dist/ and runs
// the TypeScript sources through tsx (a dev dependency), so `npx quantgpu` works with no
// build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('../src/cli/main.ts', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
