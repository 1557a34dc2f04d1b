import { onnx } from '../../src/import/onnx/proto.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModel } from '../../src/model/load-model.js';
import { mulberry32 } from './random.js';

/** Build small ONNX models in tests, through the same protobuf schema the importer reads. */

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, number | number[] | string | { floats: number[] } | { float: number }>;
}

export interface ModelSpec {
  inputs: Array<{ name: string; shape: Array<number | string> }>;
  outputs: Array<{ name: string; shape?: Array<number | string> }>;
  nodes: NodeSpec[];
  /** float32 unless `int64`, or `type` (an ONNX data type held in int32_data: INT8, UINT8, INT32). */
  initializers?: Record<string, { dims: number[]; data: ArrayLike<number>; int64?: boolean; type?: number }>;
  opset?: number;
}

function attribute(name: string, v: NonNullable<NodeSpec['attrs']>[string]): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

function valueInfo(name: string, shape: Array<number | string> | undefined): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'quantgpu-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      input: spec.inputs.map((i) => valueInfo(i.name, i.shape)),
      output: spec.outputs.map((o) => valueInfo(o.name, o.shape)),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) =>
        t.int64
          ? { name, dims: t.dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: Array.from(t.data) }
          : t.type !== undefined
            ? { name, dims: t.dims, dataType: t.type, int32Data: Array.from(t.data) }
            : { name, dims: t.dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(t.data) },
      ),
      node: spec.nodes.map((n, k) => ({
        name: n.name ?? `${n.op}_${k}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([a, v]) => attribute(a, v)),
      })),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Seeded uniform numbers in [-1, 1), so test data is reproducible. */
export function seededRandom(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

export function randomArray(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, r);
}

/**
 * A graph with a dilated average pool: the importer reads none (ONNX gives
 * AveragePool dilations from opset 19 only) and the writer, at opset 17,
 * cannot write one, so it stands for any layer ONNX Runtime cannot be given.
 */
export function dilatedAvgPoolGraph(): Graph {
  const graph = loadModel(
    buildModel({
      inputs: [{ name: 'x', shape: ['N', 2, 6, 6] }],
      outputs: [{ name: 'y' }],
      nodes: [{ op: 'AveragePool', name: 'pool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2] } }],
    }),
  );
  const pool = graph.layers[0]!;
  if (pool.op !== 'avgPool') throw new Error(`expected an average pool, got ${pool.op}`);
  pool.dilations = [2, 2];
  return graph;
}
