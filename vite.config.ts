import { existsSync, realpathSync } from 'node:fs';
import { searchForWorkspaceRoot } from 'vite';
import { defineConfig } from 'vitest/config';

// One config for the demo page (Vite) and the tests (Vitest).
// `npm run demo` serves the repository (the page at /demo/index.html);
// `npx vite build` writes the page as static files to dist/demo/, with relative
// paths (base './') so that any web server can host it under any path. The
// zoo models and the bundled data slices are assets the page imports by URL.
export default defineConfig(({ command }) => ({
  root: command === 'build' ? 'demo' : '.',
  base: command === 'build' ? './' : '/',
  server: {
    host: '127.0.0.1',
    // node_modules may be a link to an install elsewhere (git worktrees sharing one): its files are served too.
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), ...(existsSync('node_modules') ? [realpathSync('node_modules')] : [])] },
  },
  // Pre-bundled, onnxruntime-web looks for its .wasm beside the bundle in .vite/deps, where it is not.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { outDir: '../dist/demo', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores here and in CI: keep to two workers so heavy suites do not starve each other.
    maxWorkers: 2,
  },
}));
