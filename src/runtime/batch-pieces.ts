/**
 * A batch too big for the adapter, run in pieces along the batch. Every
 * activation, and so every tensor size and grid dispatch the planner checks
 * against the adapter's limits (maxStorageBufferBindingSize, maxBufferSize,
 * maxComputeWorkgroupsPerDimension), grows with the batch, as do the buffers
 * the device must allocate; the items of a batch are independent. So where a
 * batch is refused for a limit (ResourceLimitError) or for memory
 * (GpuOutOfMemoryError), it can run as consecutive pieces whose outputs,
 * joined along the batch, are the whole batch's, bit for bit.
 *
 * Where one item alone is refused (a layer's weights beyond a binding, a
 * feature map beyond a buffer), splitting cannot help and that refusal, which
 * names the limit, is the error; where the outputs have no batch dimension to
 * join along, the whole batch's refusal is.
 */
import type { Tensor } from '../cpu/tensor.js';
import { GpuOutOfMemoryError, ResourceLimitError } from '../errors.js';
import type { TensorInfo } from '../ir/graph.js';
import type { SessionResult } from './session.js';

/** How a batch runs in pieces: `count` pieces of at most `size` items, one after another. */
export interface BatchPieces {
  readonly size: number;
  readonly count: number;
}

/** The session's single input, or its inputs by name. */
export type Inputs = Tensor | Readonly<Record<string, Tensor>>;

export function isTensor(x: Inputs): x is Tensor {
  return 'shape' in x && 'data' in x && x.data instanceof Float32Array;
}

/** The batch the inputs share (their first dimension), or undefined when they do not share one. */
export function batchOf(inputs: Inputs): number | undefined {
  const tensors = isTensor(inputs) ? [inputs] : Object.values(inputs);
  const first = tensors[0]?.shape[0];
  return first !== undefined && tensors.every((t) => t.shape.length > 0 && t.shape[0] === first) ? first : undefined;
}

/**
 * The batch to cut, when `error` is a refusal that pieces may avoid: a limit
 * or out-of-memory refusal, of a batch above 1, whose declared inputs all
 * take any batch (a symbolic first dimension).
 */
export function splittableBatch(error: unknown, declared: readonly TensorInfo[], inputs: Inputs): number | undefined {
  if (!(error instanceof ResourceLimitError) && !(error instanceof GpuOutOfMemoryError)) return undefined;
  if (!declared.every((d) => typeof d.shape[0] === 'string')) return undefined;
  const batch = batchOf(inputs);
  return batch !== undefined && batch > 1 ? batch : undefined;
}

/** Items start to end (exclusive) of every input, without copying. */
export function sliceBatch(inputs: Inputs, start: number, end: number): Inputs {
  const cut = (t: Tensor): Tensor => {
    const per = t.data.length / t.shape[0]!;
    return { shape: [end - start, ...t.shape.slice(1)], data: t.data.subarray(start * per, end * per) };
  };
  return isTensor(inputs) ? cut(inputs) : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, cut(t)]));
}

/**
 * The largest piece that `fits` (resolves for), by halving `batch`: a single
 * item is tried first, so that a refusal no piece avoids is thrown at once,
 * as that item's error; a refusal of another kind is thrown as it is.
 */
export async function largestPiece(batch: number, fits: (size: number) => Promise<void>): Promise<number> {
  await fits(1);
  for (let size = Math.ceil(batch / 2); size > 1; size = Math.ceil(size / 2)) {
    try {
      await fits(size);
      return size;
    } catch (e) {
      if (!(e instanceof ResourceLimitError) && !(e instanceof GpuOutOfMemoryError)) throw e;
    }
  }
  return 1;
}

/**
 * The pieces' results joined along the batch: outputs and integer codes
 * (NCHW, batch outermost) concatenated in order; undefined where an output's
 * first dimension is not the batch (a model that flattens it), which pieces
 * cannot give.
 */
export function joinPieces(pieces: readonly SessionResult[], batch: number): SessionResult | undefined {
  const outputs: Record<string, Tensor> = {};
  const integers: Record<string, Int32Array> = {};
  for (const name of Object.keys(pieces[0]!.outputs)) {
    const parts = pieces.map((p) => p.outputs[name]!);
    const items = parts.reduce((n, t) => n + t.shape[0]!, 0);
    if (items !== batch) return undefined;
    outputs[name] = { shape: [batch, ...parts[0]!.shape.slice(1)], data: concat(parts.map((t) => t.data), Float32Array) };
    const codes = pieces.map((p) => p.integers[name]);
    if (codes.every((c): c is Int32Array => c !== undefined)) integers[name] = concat(codes, Int32Array);
  }
  return { outputs, integers };
}

function concat<A extends Float32Array | Int32Array>(parts: readonly A[], make: new (n: number) => A): A {
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
