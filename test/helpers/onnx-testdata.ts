import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFormatError, UnsupportedOperatorError } from '../../src/errors.js';
import { importOnnx, SUPPORTED_ONNX_OPS } from '../../src/import/onnx/import-onnx.js';
import { onnx } from '../../src/import/onnx/proto.js';
import { dataTypeKind, decodeTensorFile, type DecodedTensor } from '../../src/import/onnx/tensor-proto.js';
import type { Graph } from '../../src/ir/graph.js';

/** Debian's `libonnx-testdata`: ONNX's own single-operator (and small model) cases. */
export const ONNX_TESTDATA = '/usr/share/libonnx-testdata/data';

export function requireTestdata(): void {
  if (!existsSync(join(ONNX_TESTDATA, 'node'))) {
    throw new Error(`ONNX test data not found under ${ONNX_TESTDATA}; install it with: apt-get install -y libonnx-testdata`);
  }
}

export interface TestCase {
  /** e.g. `node/test_conv_with_strides_padding` */
  id: string;
  dir: string;
  modelBytes: Uint8Array;
  /** Graph inputs that are not initializers, in order, with their ONNX element type. */
  inputs: Array<{ name: string; elemType: number }>;
  outputs: string[];
  opTypes: string[];
  /** Graph inputs and outputs that are not tensors (optionals, sequences, maps), as `name: kind`. */
  nonTensorValues: string[];
  /** Read on first use: some cases hold tensors of types we never decode (strings). */
  readonly sets: Array<{ inputs: DecodedTensor[]; outputs: DecodedTensor[] }>;
}

export function listCases(folder: string): string[] {
  const root = join(ONNX_TESTDATA, folder);
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'model.onnx')))
    .sort()
    .map((d) => `${folder}/${d}`);
}

export function loadCase(id: string): TestCase {
  const dir = join(ONNX_TESTDATA, id);
  const modelBytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
  const model = onnx.ModelProto.decode(modelBytes);
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph?.input ?? [])
    .filter((i) => !inits.has(i.name))
    .map((i) => ({ name: i.name ?? '', elemType: i.type?.tensorType?.elemType ?? 1 }));
  const outputs = (model.graph?.output ?? []).map((o) => o.name ?? '');
  const opTypes = [...new Set((model.graph?.node ?? []).map((n) => n.opType ?? ''))];
  const nonTensorValues = [...(model.graph?.input ?? []), ...(model.graph?.output ?? [])]
    .filter((v) => v.type?.tensorType == null)
    .map((v) => `${v.name ?? ''}: ${Object.keys(v.type ?? {}).join('/') || 'no type'}`);
  let sets: TestCase['sets'] | undefined;
  const readSets = (): TestCase['sets'] => readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const read = (prefix: string): DecodedTensor[] =>
        readdirSync(join(dir, d))
          .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
          .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
          .map((f) => decodeTensorFile(new Uint8Array(readFileSync(join(dir, d, f))), `${id}/${d}/${f}`));
      return { inputs: read('input_'), outputs: read('output_') };
    });
  return {
    id, dir, modelBytes, inputs, outputs, opTypes, nonTensorValues,
    get sets() {
      sets ??= readSets();
      return sets;
    },
  };
}

/** numpy.testing.assert_allclose as ONNX's backend tests use it (rtol 1e-3, atol 1e-7), reporting the worst element. */
export function allClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-3, atol = 1e-7): { ok: boolean; worst: string } {
  if (actual.length !== expected.length) return { ok: false, worst: `length ${actual.length} vs ${expected.length}` };
  let ok = true;
  let worst = '';
  let worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0)) ok = false;
    if (excess > worstExcess || Number.isNaN(excess)) {
      worstExcess = excess;
      worst = `element ${i}: ${a} vs ${e}`;
    }
  }
  return { ok, worst };
}

/**
 * A case imported for our executor, or why it cannot be. `unclaimed` lists the case's operators
 * that SUPPORTED_ONNX_OPS does not name: empty when the importer claims every operator and
 * something else (a variant, a type, the data) stops the case, which a test must then account for.
 */
export type Classified = { tc: TestCase; graph: Graph } | { id: string; skip: string; unclaimed: readonly string[] };

export function classify(id: string): Classified {
  const tc = loadCase(id);
  const unclaimed = tc.opTypes.filter((op) => !SUPPORTED_ONNX_OPS.includes(op));
  if (unclaimed.length > 0) return { id, skip: `operator ${unclaimed.join(', ')}`, unclaimed };
  const skip = (why: string): Classified => ({ id, skip: why, unclaimed: [] });
  // Checked before the data files, which hold no TensorProto for these (the reader would misread them).
  if (tc.nonTensorValues.length > 0) return skip(`graph values that are not tensors (${tc.nonTensorValues.join(', ')})`);
  try {
    if (tc.sets.length === 0) return skip('no test data set');
  } catch (e) {
    if (e instanceof ModelFormatError) return skip(`test data: ${e.message.replace(/^.*: /, '')}`);
    throw e;
  }
  if (tc.sets[0]!.outputs.some((t) => t.kind !== 'float')) return skip('non-float output');
  // Parameters that the cases feed as graph inputs (integer shapes, axes and pads; scalar clip
  // bounds and pad values) are frozen to the test's values: the IR is a static float graph.
  const constantInputs: Record<string, (typeof tc.sets)[0]['inputs'][0]> = {};
  tc.inputs.forEach((inp, i) => {
    const t = tc.sets[0]!.inputs[i]!;
    if (dataTypeKind(inp.elemType) === 'int' || t.dims.length === 0) constantInputs[inp.name] = t;
  });
  try {
    return { tc, graph: importOnnx(tc.modelBytes, { constantInputs }) };
  } catch (e) {
    if (e instanceof UnsupportedOperatorError) return skip(e.message.replace(/^node '[^']*': /, ''));
    if (e instanceof ModelFormatError && /opset/.test(e.message)) return skip(e.message);
    throw new Error(`${id}: import failed: ${(e as Error).name}: ${(e as Error).message}`);
  }
}
