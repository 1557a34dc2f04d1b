/**
 * A calibration worker's program (bundled by esbuild, see
 * parallel-calibration.ts): one onnxruntime-node session of the graph with
 * every observed tensor as an output, and the statistics of the batches it
 * is given. Several workers split the batches between them and their
 * statistics merge exactly (see TensorStats), so calibration scales with
 * the cores; the tensors never leave the thread that made them.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-web';
import { ORT_SESSION_OPTIONS } from '../../executor/ort-session-options.js';
import type { RpcReply } from '../../util/worker-rpc.js';
import { TensorStats, type TensorStatsJSON } from './tensor-stats.js';

export interface CalibrateWorkerData {
  /** onnxruntime-node's resolved main file (the bundle cannot resolve packages itself). */
  ortPath: string;
}

/** What a worker is asked: open the session, count a batch, or hand its statistics over. */
export type CalibrateMessage =
  | { type: 'create'; model: Uint8Array; input: string; observed: string[] }
  | { type: 'batch'; shape: number[]; data: Float32Array }
  | { type: 'finish' };

export type CalibrateRequest = CalibrateMessage & { id: number };

/** What a successful reply carries besides its number. */
export interface CalibrateResult {
  version?: string;
  images?: number;
  stats?: Record<string, TensorStatsJSON>;
}

const { ortPath } = workerData as CalibrateWorkerData;
// An absolute path resolves from any base: the bundle has no module path of its own.
const ort = createRequire(join(process.cwd(), 'calibrate-worker.js'))(ortPath) as typeof Ort;
let session: Ort.InferenceSession | undefined;
let input = '';
let observed: string[] = [];
let stats = new Map<string, TensorStats>();
let images = 0;

const stat = (name: string): TensorStats => {
  let s = stats.get(name);
  if (!s) stats.set(name, (s = new TensorStats()));
  return s;
};

async function handle(m: CalibrateRequest): Promise<RpcReply<CalibrateResult>> {
  switch (m.type) {
    case 'create':
      session = await ort.InferenceSession.create(m.model, { ...ORT_SESSION_OPTIONS, intraOpNumThreads: 1 });
      input = m.input;
      observed = m.observed;
      stats = new Map();
      images = 0;
      return { id: m.id, ok: true, version: ort.env.versions.node ?? ort.env.versions.common };
    case 'batch': {
      stat(input).observe(m.data);
      const out = await session!.run({ [input]: new ort.Tensor('float32', m.data, m.shape) });
      for (const t of observed) {
        stat(t).observe(out[t]!.data as Float32Array);
        out[t]!.dispose();
      }
      images += m.shape[0]!;
      return { id: m.id, ok: true };
    }
    case 'finish': {
      await session?.release();
      session = undefined;
      const json: Record<string, TensorStatsJSON> = {};
      for (const [name, s] of stats) json[name] = s.toJSON();
      return { id: m.id, ok: true, images, stats: json };
    }
  }
}

parentPort!.on('message', (m: CalibrateRequest) => {
  handle(m).then(
    (r) => parentPort!.postMessage(r),
    (e: unknown) => parentPort!.postMessage({ id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) } satisfies RpcReply),
  );
});
