/**
 * The GPU kernels against the CPU golden model on whatever adapter Node's
 * `webgpu` (Dawn) finds: a real GPU's Vulkan driver where there is one.
 * The test suite runs the same programs on SwiftShader in CI; this script is
 * for machines with a real GPU (it needs no test runner, so it can be bundled
 * and carried to one).
 *
 *   npx tsx bench/gpu-exactness.ts [--json]
 */
import { planConv } from '../src/gpu/ops/conv.js';
import { formatAdapterFacts } from '../src/gpu/adapter-info.js';
import { requestGpu } from '../src/gpu/device.js';
import { PipelineCache } from '../src/gpu/pipeline-cache.js';
import { decodeInt32, encodeInt32 } from '../test/gpu/harness/codec.js';
import { runChecked } from '../test/gpu/harness/run-checked.js';
import { buildCase, igemmCodes, igemmPlanArgs, IGEMM_CASES } from '../test/gpu/kernels/igemm-cases.js';
import { edgeCases, golden, mismatches, randomCases } from '../test/gpu/kernels/requant-cases.js';
import { PRIMITIVES } from '../test/gpu/kernels/requant-test-kernel.js';

const gpu = await requestGpu();
const cache = new PipelineCache(gpu.device);
const rows: Array<{ check: string; cases: number; mismatches: number; gpuErrors: number; leaked: number; ms: number }> = [];
const clean = (r: { thrown?: unknown; gpuErrors: readonly unknown[]; leakedBuffers: readonly unknown[] }) => ({ gpuErrors: r.gpuErrors.length + (r.thrown ? 1 : 0), leaked: r.leakedBuffers.length });

for (const primitive of PRIMITIVES) {
  for (const [kind, cases] of [['edge', edgeCases(primitive)], ['random', randomCases(primitive, 20_000, 7)]] as const) {
    const t0 = performance.now();
    const r = await runChecked(gpu, cache, 'requant', { primitive, cases: encodeInt32(cases) });
    const actual = r.value ? decodeInt32(r.value.results) : new Int32Array(0);
    const diff = mismatches(primitive, cases, golden(primitive, cases), actual);
    rows.push({ check: `requant ${primitive} (${kind})`, cases: actual.length, mismatches: diff.count, ...clean(r), ms: performance.now() - t0 });
  }
}
for (const c of IGEMM_CASES) {
  const b = buildCase(c);
  for (const dot4 of gpu.facts.dot4I8Packed ? [false, true] : [false]) {
    const p = planConv(b.q, b.inP, b.outP, b.inputShape, gpu.facts, { dot4, ...(c.rows !== undefined ? { rows: c.rows } : {}) });
    const t0 = performance.now();
    // The plan a session runs (the step's KernelPlan through prepareKernel).
    const r = await runChecked(gpu, cache, 'plan', igemmPlanArgs(b, p));
    const words = r.value ? new Uint32Array(decodeInt32(r.value.output).buffer) : new Uint32Array(0);
    const actual = words.length > 0 ? igemmCodes(b, p, words) : new Int32Array(0);
    let bad = 0;
    for (let i = 0; i < b.expected.length; i++) if (actual[i] !== b.expected[i]) bad++;
    rows.push({ check: `igemm ${c.name} [${dot4 ? 'dot4I8Packed' : 'vec4'}]`, cases: b.expected.length, mismatches: bad, ...clean(r), ms: performance.now() - t0 });
  }
}
gpu.destroy();
const failed = rows.filter((r) => r.mismatches > 0 || r.gpuErrors > 0 || r.leaked > 0);
if (process.argv.includes('--json')) console.log(JSON.stringify({ adapter: gpu.facts, rows, failed: failed.length }, null, 2));
else {
  console.log(formatAdapterFacts(gpu.facts));
  for (const r of rows) console.log(`${r.mismatches === 0 && r.gpuErrors === 0 && r.leaked === 0 ? 'ok  ' : 'FAIL'} ${r.check}: ${r.cases} values, ${r.mismatches} differ, ${r.gpuErrors} GPU errors, ${r.leaked} leaked buffers (${r.ms.toFixed(0)} ms)`);
  console.log(`${rows.length - failed.length} passed, ${failed.length} failed`);
}
process.exitCode = failed.length > 0 ? 1 : 0;
