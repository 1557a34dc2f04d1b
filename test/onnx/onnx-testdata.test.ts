import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import { simplify } from '../../src/ir/simplify.js';
import { SHAPE_ARITHMETIC_OPS, SUPPORTED_ONNX_OPS } from '../../src/import/onnx/import-onnx.js';
import { allClose, classify, listCases, requireTestdata, type TestCase } from '../helpers/onnx-testdata.js';

/**
 * Every case of ONNX's own test data whose operators quantgpu reads is
 * imported, run on the CPU float executor (raw and simplified) and compared
 * with the expected outputs. Cases with operators or types we do not support
 * are counted as skipped, with the reason, in the printed report; a case whose
 * operators we claim must pass.
 */
requireTestdata();

function runCase(tc: TestCase, graph: Graph): void {
  for (const set of tc.sets) {
    const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
    tc.inputs.forEach((inp, i) => {
      const t = set.inputs[i]!;
      const fed = graph.inputs.some((g) => g.name === inp.name);
      if (fed && t.kind === 'float') inputs[inp.name] = { shape: t.dims, data: t.data };
    });
    const outs = runGraph(graph, inputs);
    expect(Object.keys(inputs).sort(), `${tc.id}: every graph input fed`).toEqual(graph.inputs.map((i) => i.name).sort());
    tc.outputs.forEach((name, i) => {
      const got = outs[name]!;
      const want = set.outputs[i]!;
      expect(got.shape, `${tc.id} output '${name}' shape`).toEqual(want.dims);
      const cmp = allClose(got.data, want.data as Float32Array);
      expect(cmp.ok, `${tc.id} output '${name}': ${cmp.worst}`).toBe(true);
    });
  }
}

for (const folder of ['node', 'pytorch-converted', 'pytorch-operator', 'simple']) {
  describe(`ONNX test data: ${folder}`, () => {
    const classified = listCases(folder).map(classify);
    const runnable = classified.filter((c): c is { tc: TestCase; graph: Graph } => 'tc' in c);
    const skipped = classified.filter((c): c is { id: string; skip: string } => 'skip' in c);

    it.each(runnable.map((c) => [c.tc.id, c] as const))('%s', (_id, c) => {
      runCase(c.tc, c.graph);
      // Simplification passes must keep the outputs.
      runCase(c.tc, simplify(c.graph));
    });

    it('reports what ran and what was skipped', () => {
      const reasons = new Map<string, number>();
      for (const s of skipped) reasons.set(s.skip, (reasons.get(s.skip) ?? 0) + 1);
      const top = [...reasons].sort((a, b) => b[1] - a[1]);
      console.log(
        `[onnx-testdata ${folder}] cases: ${classified.length}, run: ${runnable.length}, skipped: ${skipped.length}\n` +
          top.map(([r, n]) => `  ${String(n).padStart(4)}  ${r}`).join('\n'),
      );
      // pytorch-operator and simple hold few graphs of our operators; the other two must run.
      if (folder === 'node' || folder === 'pytorch-converted') expect(runnable.length).toBeGreaterThan(0);
    });
  });
}

describe('ONNX test data: coverage of the operators we claim', () => {
  it('every supported layer operator has a runnable case', () => {
    const ran = new Set(
      ['node', 'pytorch-converted'].flatMap((f) => listCases(f).map(classify).flatMap((c) => ('tc' in c ? c.tc.opTypes : []))),
    );
    // Shape arithmetic (Shape, Gather, Slice, ...) folds at import and yields integers, which
    // the node cases cannot compare as float outputs; test/ir/simplify.test.ts and the zoo cover it.
    const missing = SUPPORTED_ONNX_OPS.filter((op) => !SHAPE_ARITHMETIC_OPS.includes(op) && !ran.has(op));
    expect(missing).toEqual([]);
  });
});
