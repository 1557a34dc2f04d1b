#!/usr/bin/env node
// The CLI's entry point. In a checkout (src/ is here) it runs the TypeScript sources through
// tsx, a dev dependency, so `npx quantgpu` works straight after `npm ci` and never runs a
// stale build; a published package (dist/ made by `prepublishOnly`, no src/) runs the
// compiled CLI.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
