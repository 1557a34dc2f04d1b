/**
 * A model on the GPU. `createSession` takes a float graph or a quantized one;
 * for each input shape it meets, the session builds the command graph once
 * (plan-graph.ts), plans activation memory by liveness (memory-plan.ts),
 * compiles each kernel variant once (PipelineCache), uploads weights and
 * uniforms once, and makes every bind group. A run is then one queue write
 * per input, one command encoder with one pass per step, one copy of the
 * outputs into a staging buffer, and one submit. Runs do not wait for each
 * other: each takes its own staging buffer from a pool, and the queue orders
 * their writes and passes, so several may be in flight.
 *
 * Faults: a lost device rejects every pending and later run with
 * DeviceLostError (make a new session on a new device); dispose() destroys
 * every buffer the session made, and the device too if the session asked
 * for it.
 */
import { DeviceLostError, GpuOutOfMemoryError, InputError, QuantGpuError, ShapeError } from '../errors.js';
import type { AdapterFacts } from '../gpu/adapter-info.js';
import { chooseKernels, type KernelChoice } from '../gpu/kernel-choice.js';
import { BufferTracker } from '../gpu/buffer-tracker.js';
import { afterRunSubmitted } from '../gpu/fault-injection.js';
import { requestGpu, type Gpu, type RequestGpuOptions } from '../gpu/device.js';
import { BufferUsage, MapMode } from '../gpu/flags.js';
import { actShape, laneOffset, unpackActivations } from '../quant/lanes.js';
import { prepareKernel, type ConstantBuffers, type PreparedKernel } from '../gpu/ops/kernel-plan.js';
import { PipelineCache } from '../gpu/pipeline-cache.js';
import type { Graph } from '../ir/graph.js';
import { requireFinite, type Tensor } from '../cpu/tensor.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { planMemory, rootOf, type MemoryPlan } from './memory-plan.js';
import { planFloatGraph, planQuantizedGraph, type PlanOptions } from './plan-graph.js';
import { withTighterLimits } from './operator.js';
import { validateForGpu } from './validate.js';
import { batchOf, isTensor, joinPieces, largestPiece, sliceBatch, splittableBatch, type BatchPieces, type Inputs } from './batch-pieces.js';
import { median } from '../gpu/time-kernels.js';
import { stepBytes, stepFloorMs, type LayerProfile, type SessionProfile } from './profile.js';
import { measurePeaks, type AdapterPeaks } from '../gpu/peaks.js';
import type { CommandGraph } from './steps.js';
import { numel } from '../ir/shape.js';

export interface ProfileOptions {
  readonly warmup?: number;
  readonly repeats?: number;
  /** Measure the adapter's peaks (once per session) and give each layer its floor time (profile.ts). */
  readonly roofline?: boolean;
}

export interface SessionOptions extends PlanOptions {
  /** The device to run on (from requestGpu); default: one requested for the session, destroyed by dispose(). */
  readonly gpu?: Gpu;
  /** Options for requestGpu when the session asks for its own device. */
  readonly request?: RequestGpuOptions;
}

export interface SessionResult {
  /** Float outputs by name (dequantized logits, or a float tail's outputs). */
  readonly outputs: Record<string, Tensor>;
  /** The integer codes each quantized output was dequantized from (NCHW order), as the golden executor gives them. */
  readonly integers: Record<string, Int32Array>;
}

export interface MemoryReport {
  /** Activation bytes the session allocated (liveness-planned slots). */
  readonly plannedBytes: number;
  /** What one buffer per tensor would take. */
  readonly naiveBytes: number;
  readonly slots: number;
  /** Weights, biases, requantization tables and uniforms. */
  readonly constantBytes: number;
  /** Where the batch runs in pieces (batch-pieces.ts): the report is one piece's. */
  readonly pieces?: BatchPieces;
}

interface Readback {
  readonly key: string;
  readonly offset: number;
  readonly bytes: number;
}

/** Everything made for one input shape. */
interface Prepared {
  readonly graph: CommandGraph;
  readonly memory: MemoryPlan;
  readonly slots: GPUBuffer[];
  readonly ops: PreparedKernel[];
  readonly constantBytes: number;
  readonly readbacks: Readback[];
  readonly stagingBytes: number;
  readonly staging: GPUBuffer[];
  readonly owned: GPUBuffer[];
}

export class Session {
  readonly #gpu: Gpu;
  readonly #ownsGpu: boolean;
  readonly #model: Graph | QuantizedGraph;
  readonly #options: PlanOptions;
  readonly #tracker: BufferTracker;
  readonly #cache: PipelineCache;
  readonly #prepared = new Map<string, Promise<Prepared>>();
  /** The batch size runs of an input shape are cut into, where the whole batch did not fit. */
  readonly #pieces = new Map<string, number>();
  readonly #pending = new Set<(e: Error) => void>();
  readonly #lostSignal: Promise<DeviceLostError>;
  #lost: DeviceLostError | undefined;
  #disposed = false;
  #choice: Promise<KernelChoice> | undefined;
  #peaks: Promise<AdapterPeaks> | undefined;

  /** @internal use createSession */
  constructor(gpu: Gpu, ownsGpu: boolean, model: Graph | QuantizedGraph, options: PlanOptions) {
    this.#gpu = gpu;
    this.#ownsGpu = ownsGpu;
    this.#model = model;
    this.#options = options;
    this.#tracker = new BufferTracker(gpu.device);
    this.#cache = new PipelineCache(gpu.device);
    this.#lostSignal = gpu.device.lost.then((info) => {
      const e = new DeviceLostError(info.reason ?? 'unknown', info.message);
      this.#lost = e;
      for (const reject of this.#pending) reject(e);
      this.#pending.clear();
      return e;
    });
  }

  get facts(): AdapterFacts {
    return this.#gpu.facts;
  }

  get device(): GPUDevice {
    return this.#gpu.device;
  }

  /** Whether the model runs integer kernels (a quantized graph) or float32 ones. */
  get quantized(): boolean {
    return 'tensors' in this.#model;
  }

  /** Labels of the GPU buffers the session holds now. */
  liveBuffers(): string[] {
    return this.#tracker.live();
  }

  /**
   * Runs one batch: the graph's single input as a tensor, or inputs by name.
   * A batch whose tensors or dispatches exceed the adapter's limits, or whose
   * buffers the device cannot allocate, runs in pieces along the batch
   * (batch-pieces.ts); where one item alone exceeds them, that is the error.
   */
  async run(inputs: Inputs): Promise<SessionResult> {
    const key = JSON.stringify(this.#shapes(inputs));
    const known = this.#pieces.get(key);
    // Pieces are remembered only once they joined: the same shapes join again.
    if (known !== undefined) return (await this.#runPieces(inputs, known))!;
    try {
      return await this.#runWhole(inputs);
    } catch (e) {
      const size = await this.#pieceSizeAfter(e, inputs);
      const joined = await this.#runPieces(inputs, size);
      if (joined === undefined) throw e;
      this.#pieces.set(key, size);
      return joined;
    }
  }

  /** The largest piece of the batch that plans, after `error` refused the whole; that error itself where pieces cannot help. */
  async #pieceSizeAfter(error: unknown, inputs: Inputs): Promise<number> {
    const batch = splittableBatch(error, this.#model.inputs, inputs);
    if (batch === undefined) throw error;
    return largestPiece(batch, (n) => this.#prepare(sliceBatch(inputs, 0, n)).then(() => undefined));
  }

  async #runPieces(inputs: Inputs, size: number): Promise<SessionResult | undefined> {
    const batch = batchOf(inputs)!;
    const results: SessionResult[] = [];
    // One piece after another: pieces exist because the whole did not fit at once.
    for (let start = 0; start < batch; start += size) results.push(await this.#runWhole(sliceBatch(inputs, start, Math.min(batch, start + size))));
    return joinPieces(results, batch);
  }

  async #runWhole(inputs: Inputs): Promise<SessionResult> {
    const p = await this.#prepare(inputs);
    return this.#guard(async () => {
      const staging = await this.#takeStaging(p);
      let words: ArrayBuffer;
      try {
        const encoder = this.#encode(p, inputs, staging);
        this.device.queue.submit([encoder.finish()]);
        afterRunSubmitted(this.device);
        words = await this.#read(staging);
      } catch (e) {
        // Not mapped (a bad input throws before any submit; a failed map leaves it unmapped): reusable.
        if (staging.mapState === 'unmapped') p.staging.push(staging);
        else staging.destroy();
        throw e;
      }
      p.staging.push(staging);
      return this.#results(p, words);
    });
  }

  /**
   * Per-layer GPU times: `warmup` runs, then `repeats` runs whose pass
   * timestamps (where the adapter has timestamp-query) and wall times are
   * kept; medians per layer.
   */
  async profile(inputs: Inputs, options: ProfileOptions = {}): Promise<SessionProfile> {
    const pieces = await this.#piecesOf(inputs);
    if (pieces === undefined) return this.#profileWhole(inputs, options);
    return { ...(await this.#profileWhole(sliceBatch(inputs, 0, pieces.size), options)), pieces };
  }

  /**
   * How a batch that does not fit at once is cut (as `run` cuts it), or
   * undefined when it fits; where one item alone does not fit, that refusal.
   */
  async #piecesOf(inputs: Inputs): Promise<BatchPieces | undefined> {
    const key = JSON.stringify(this.#shapes(inputs));
    let size = this.#pieces.get(key);
    if (size === undefined) {
      try {
        await this.#prepare(inputs);
        return undefined;
      } catch (e) {
        const piece = await this.#pieceSizeAfter(e, inputs);
        // As in run: pieces only where every output's first dimension is the batch, so that pieces join.
        const planned = await this.#prepare(sliceBatch(inputs, 0, piece));
        if (!planned.graph.outputs.every((o) => o.shape[0] === piece)) throw e;
        this.#pieces.set(key, piece);
        size = piece;
      }
    }
    return { size, count: Math.ceil(batchOf(inputs)! / size) };
  }

  async #profileWhole(inputs: Inputs, options: ProfileOptions): Promise<SessionProfile> {
    const warmup = options.warmup ?? 2;
    const repeats = Math.max(1, options.repeats ?? 10);
    const p = await this.#prepare(inputs);
    // Measured once per session, before the timed runs (a few seconds on an emulated adapter).
    const peaks = options.roofline === true ? await this.#guard(() => (this.#peaks ??= measurePeaks(this.device, this.#cache, this.facts))) : undefined;
    const steps = p.graph.steps;
    // WebGPU caps a query set at 4096 queries: two per step.
    const timestamps = this.facts.timestampQuery && steps.length > 0 && 2 * steps.length <= 4096;
    return this.#guard(async () => {
      const made: GPUBuffer[] = [];
      const querySet = timestamps ? this.device.createQuerySet({ label: 'profile', type: 'timestamp', count: 2 * steps.length }) : undefined;
      try {
        const resolveBuffer = timestamps ? this.#tracker.create({ label: 'profile:resolve', size: 16 * steps.length, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC }) : undefined;
        const readBuffer = timestamps ? this.#tracker.create({ label: 'profile:read', size: 16 * steps.length, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST }) : undefined;
        for (const b of [resolveBuffer, readBuffer]) if (b !== undefined) made.push(b);
        const perStep: number[][] = steps.map(() => []);
        const walls: number[] = [];
        for (let r = 0; r < warmup + repeats; r++) {
          const staging = await this.#takeStaging(p);
          const t0 = performance.now();
          const encoder = this.#encode(p, inputs, staging, querySet);
          if (querySet !== undefined) {
            encoder.resolveQuerySet(querySet, 0, 2 * steps.length, resolveBuffer!, 0);
            encoder.copyBufferToBuffer(resolveBuffer!, 0, readBuffer!, 0, 16 * steps.length);
          }
          this.device.queue.submit([encoder.finish()]);
          await this.#read(staging);
          p.staging.push(staging);
          const wall = performance.now() - t0;
          if (readBuffer !== undefined) {
            await readBuffer.mapAsync(MapMode.READ);
            const ns = new BigUint64Array(readBuffer.getMappedRange().slice(0));
            readBuffer.unmap();
            if (r >= warmup) steps.forEach((_, i) => perStep[i]!.push(Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6));
          }
          if (r >= warmup) walls.push(wall);
        }
        const layers = new Map<string, { op: string; bits: string; macs: number; ms: number; shape: readonly number[]; bytes: number; floorMs: number }>();
        steps.forEach((s, i) => {
          const outKey = Object.values(s.plan.buffers).find((b) => b.role === 'output');
          const shape = outKey !== undefined && outKey.role === 'output' ? (p.graph.tensors.get(outKey.tensor)?.shape ?? []) : [];
          const l = layers.get(s.layer) ?? { op: s.op, bits: s.bits, macs: 0, ms: 0, shape, bytes: 0, floorMs: 0 };
          const bytes = stepBytes(s, p.graph);
          l.bytes += bytes;
          if (peaks !== undefined) l.floorMs += stepFloorMs(s, bytes, peaks);
          l.macs += s.macs;
          if (timestamps) l.ms += median(perStep[i]!);
          layers.set(s.layer, l);
        });
        const out: LayerProfile[] = [...layers].map(([layer, l]) => ({
          layer,
          op: l.op,
          shape: l.shape,
          bits: l.bits,
          macs: l.macs,
          medianMs: timestamps ? l.ms : null,
          gops: timestamps && l.macs > 0 && l.ms > 0 ? (2 * l.macs) / (l.ms * 1e6) : null,
          bytes: l.bytes,
          floorMs: peaks === undefined ? null : l.floorMs,
        }));
        return {
          adapter: this.facts.description || this.facts.vendor || this.facts.architecture || 'unknown adapter',
          batch: p.graph.inputs[0]?.shape[0] ?? 1,
          warmup,
          repeats,
          timestamps,
          wallMs: median(walls),
          gpuMs: timestamps ? out.reduce((a, l) => a + (l.medianMs ?? 0), 0) : null,
          layers: out,
          ...(peaks === undefined ? {} : { peaks }),
        };
      } finally {
        querySet?.destroy();
        for (const b of made) b.destroy();
      }
    });
  }

  /** The memory plan for an input shape (planned now if it was not); for a batch run in pieces, one piece's. */
  async memory(inputs: Inputs): Promise<MemoryReport> {
    const pieces = await this.#piecesOf(inputs);
    const p = await this.#prepare(pieces === undefined ? inputs : sliceBatch(inputs, 0, pieces.size));
    return { plannedBytes: p.memory.plannedBytes, naiveBytes: p.memory.naiveBytes, slots: p.slots.length, constantBytes: p.constantBytes, ...(pieces === undefined ? {} : { pieces }) };
  }

  /** The command graph for an input shape: steps, tensors, and where each lives. */
  async commandGraph(inputs: Inputs): Promise<CommandGraph> {
    return (await this.#prepare(inputs)).graph;
  }

  /** Destroys every buffer the session made (and its device, if it asked for one). Later calls throw. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const reject of this.#pending) reject(new QuantGpuError('the session was disposed while this run was pending'));
    this.#pending.clear();
    this.#tracker.destroyAll();
    if (this.#ownsGpu) this.#gpu.destroy();
  }

  #check(): void {
    if (this.#disposed) throw new QuantGpuError('the session was disposed');
    if (this.#lost !== undefined) throw this.#lost;
  }

  /** Runs `f`, rejecting with DeviceLostError the moment the device is lost, and turning a failure caused by the loss into it. */
  async #guard<T>(f: () => Promise<T>): Promise<T> {
    this.#check();
    let reject!: (e: Error) => void;
    const lost = new Promise<never>((_, r) => (reject = r));
    this.#pending.add(reject);
    try {
      return await Promise.race([f(), lost]);
    } catch (e) {
      if (this.#disposed) throw e;
      if (this.#lost !== undefined) throw this.#lost;
      // A failed map may come before the device's lost promise settles: wait briefly for it.
      const settled = await Promise.race([this.#lostSignal, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      if (settled !== undefined) throw settled;
      throw e;
    } finally {
      this.#pending.delete(reject);
    }
  }

  #shapes(inputs: Inputs): Record<string, readonly number[]> {
    const io = this.#model.inputs;
    if (isTensor(inputs)) {
      if (io.length !== 1) throw new InputError(`the model has ${io.length} inputs (${io.map((i) => i.name).join(', ')}); pass them by name`);
      return { [io[0]!.name]: inputs.shape };
    }
    const unknown = Object.keys(inputs).filter((k) => !io.some((i) => i.name === k));
    if (unknown.length > 0) throw new InputError(`no model input named ${unknown.join(', ')} (inputs: ${io.map((i) => i.name).join(', ')})`);
    return Object.fromEntries(io.map((i) => [i.name, inputs[i.name]?.shape ?? []]));
  }

  #prepare(inputs: Inputs): Promise<Prepared> {
    this.#check();
    const shapes = this.#shapes(inputs);
    const key = JSON.stringify(shapes);
    let p = this.#prepared.get(key);
    if (p === undefined) {
      p = this.#guard(() => this.#build(shapes));
      this.#prepared.set(key, p);
      p.catch(() => this.#prepared.delete(key));
    }
    return p;
  }

  async #build(shapes: Record<string, readonly number[]>): Promise<Prepared> {
    const facts = withTighterLimits(this.facts, this.#options.limits);
    const graph = 'tensors' in this.#model ? planQuantizedGraph(this.#model, shapes, facts, await this.#planOptions()) : planFloatGraph(this.#model, shapes, facts);
    const memory = planMemory(graph);
    const kernels = await Promise.all(graph.steps.map((s) => this.#cache.get(s.kernel, s.plan.variant)));
    // Disposed or lost while compiling: allocate nothing (dispose() has already freed what there was).
    this.#check();
    const owned: GPUBuffer[] = [];
    const ops: PreparedKernel[] = [];
    let constantBytes = 0;
    let prepared: Prepared | undefined;
    let thrown: unknown;
    // An allocation the device cannot serve is an out-of-memory error, not a
    // throw: caught by this scope, it fails the build (everything made freed).
    // The failed buffer is invalid, so the bind groups made with it raise
    // validation errors: consequences, caught by the outer scope with it.
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    try {
      const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
      const slots = memory.slotBytes.map((bytes, i) => {
        const b = this.#tracker.create({ label: `slot${i}`, size: Math.max(4, bytes), usage });
        owned.push(b);
        return b;
      });
      // A tensor is bound as the part of its slot it fills: a slot may be larger than the adapter binds at once (src/gpu/ops/pieces.ts).
      const buffers: Record<string, GPUBufferBinding> = {};
      for (const t of graph.tensors.values()) {
        const root = rootOf(graph, t.key);
        const c = graph.tensors.get(root)?.constant;
        if (c !== undefined) {
          if (buffers[root] === undefined) {
            const b = this.#tracker.createWithData(`const:${root}`, BufferUsage.STORAGE, c);
            owned.push(b);
            buffers[root] = { buffer: b };
            constantBytes += b.size;
          }
          buffers[t.key] = buffers[root];
        } else {
          const slot = memory.slotOf.get(t.key);
          if (slot !== undefined) buffers[t.key] = { buffer: slots[slot]!, size: Math.max(4, graph.tensors.get(rootOf(graph, t.key))!.bytes) };
        }
      }
      // The pieces of one layer share its weights and tables: one buffer each.
      const constants: ConstantBuffers = new Map();
      try {
        graph.steps.forEach((s, i) => {
          const op = prepareKernel(this.#tracker, kernels[i]!, s.plan, buffers, constants);
          ops.push(op);
        });
      } finally {
        for (const [data, b] of constants) {
          owned.push(b);
          constantBytes += data.byteLength;
        }
      }
      const readbacks: Readback[] = [];
      let offset = 0;
      for (const o of graph.outputs) {
        for (const key of o.integer !== undefined ? [o.key, o.integer.key] : [o.key]) {
          const bytes = graph.tensors.get(key)!.bytes;
          readbacks.push({ key, offset, bytes });
          offset += bytes;
        }
      }
      const stagingBytes = Math.max(4, offset);
      // The first staging buffer is made here, under the scope; runs in flight together make more (#takeStaging).
      const staging = this.#tracker.create({ label: 'staging', size: stagingBytes, usage: STAGING_USAGE });
      owned.push(staging);
      prepared = { graph, memory, slots, ops, constantBytes, readbacks, stagingBytes, staging: [staging], owned: owned.slice(0, -1) };
    } catch (e) {
      thrown = e;
    }
    const oom = await this.device.popErrorScope().catch(() => null);
    const invalid = await this.device.popErrorScope().catch(() => null);
    if (prepared !== undefined && oom === null && invalid === null) return prepared;
    for (const op of ops) op.destroy();
    for (const b of owned) b.destroy();
    if (thrown !== undefined) throw thrown;
    if (oom === null) throw new Error(`WebGPU refused the buffers or bind groups of a planned graph (a bug): ${invalid!.message}`);
    const bytes = memory.plannedBytes + constantBytes;
    const shapeText = Object.entries(shapes).map(([name, shape]) => `'${name}' [${shape.join(', ')}]`).join(', ');
    throw new GpuOutOfMemoryError(`out of GPU memory making the buffers for input ${shapeText} (${memory.plannedBytes} bytes of activations, ${constantBytes} of weights and tables): ${oom!.message.split('\n')[0]}; free GPU memory or use a smaller input`, bytes);
  }

  /** The plan options with the fields the user left open filled from the adapter's measured best (kernel-choice.ts). */
  async #planOptions(): Promise<PlanOptions> {
    const o = this.#options;
    const open = o.dot4 === undefined || o.rows === undefined || o.workgroupX === undefined || o.workgroupY === undefined || o.tiled === undefined;
    const forcedWorkgroup = o.workgroupX !== undefined || o.workgroupY !== undefined;
    if (!open || o.autotune === false) return { ...o, fitWorkgroup: !forcedWorkgroup };
    if (this.#choice === undefined) {
      const choice = chooseKernels(this.device, this.#cache, this.facts);
      this.#choice = choice;
      // A failed measurement (a lost device) must not fail every later build of this session.
      choice.catch(() => {
        if (this.#choice === choice) this.#choice = undefined;
      });
    }
    const c = await this.#choice;
    return { ...o, dot4: o.dot4 ?? c.dot4, rows: o.rows ?? c.rows, workgroupX: o.workgroupX ?? c.workgroupX, workgroupY: o.workgroupY ?? c.workgroupY, tiled: o.tiled ?? c.tiled, fitWorkgroup: !forcedWorkgroup };
  }

  /** The igemm variant measured fastest on this adapter (undefined before the first quantized run, or with autotune off). */
  async kernelChoice(): Promise<KernelChoice | undefined> {
    return this.#choice;
  }

  /** A staging buffer from the pool, or a new one (an allocation the device refuses is a GpuOutOfMemoryError, nothing kept). */
  async #takeStaging(p: Prepared): Promise<GPUBuffer> {
    const pooled = p.staging.pop();
    if (pooled !== undefined) return pooled;
    this.device.pushErrorScope('out-of-memory');
    const made = this.#tracker.create({ label: 'staging', size: p.stagingBytes, usage: STAGING_USAGE });
    const oom = await this.device.popErrorScope().catch(() => null);
    if (oom === null) return made;
    made.destroy();
    throw new GpuOutOfMemoryError(`out of GPU memory making a ${p.stagingBytes}-byte staging buffer for a run in flight: ${oom.message.split('\n')[0]}; free GPU memory or run fewer batches at once`, p.stagingBytes);
  }

  #encode(p: Prepared, inputs: Inputs, staging: GPUBuffer, querySet?: GPUQuerySet): GPUCommandEncoder {
    const device = this.device;
    for (const io of p.graph.inputs) {
      const t = isTensor(inputs) ? inputs : inputs[io.name]!;
      const expected = numel(io.shape);
      if (t.data.length !== expected) throw new ShapeError(`input '${io.name}': ${t.data.length} values for shape [${io.shape.join(', ')}]`);
      // A quantized model's first step quantizes the input: NaN has no code (the golden model refuses it the same way).
      if (this.quantized) requireFinite(t.data, `input '${io.name}'`, t.data.length / (t.shape[0] || 1));
      const slot = p.memory.slotOf.get(io.key);
      if (slot === undefined) continue;
      device.queue.writeBuffer(p.slots[slot]!, 0, t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
    const encoder = device.createCommandEncoder({ label: 'inference' });
    p.ops.forEach((op, i) => {
      const step = p.graph.steps[i]!;
      const pass = encoder.beginComputePass({
        label: `${step.layer}:${step.op}`,
        ...(querySet !== undefined ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } } : {}),
      });
      op.encode(pass);
      pass.end();
    });
    for (const r of p.readbacks) {
      const slot = p.memory.slotOf.get(r.key);
      const source = slot !== undefined ? p.slots[slot]! : undefined;
      if (source === undefined) throw new ShapeError(`output '${r.key.slice(2)}' has no buffer (is it a constant or an input?)`);
      encoder.copyBufferToBuffer(source, 0, staging, r.offset, r.bytes);
    }
    return encoder;
  }

  async #read(staging: GPUBuffer): Promise<ArrayBuffer> {
    await staging.mapAsync(MapMode.READ);
    try {
      return staging.getMappedRange().slice(0);
    } finally {
      staging.unmap();
    }
  }

  #results(p: Prepared, bytes: ArrayBuffer): SessionResult {
    const at = new Map(p.readbacks.map((r) => [r.key, r]));
    const outputs: Record<string, Tensor> = {};
    const integers: Record<string, Int32Array> = {};
    for (const o of p.graph.outputs) {
      const r = at.get(o.key)!;
      outputs[o.name] = { shape: [...o.shape], data: new Float32Array(bytes, r.offset, r.bytes / 4).slice() };
      if (o.integer !== undefined) {
        const ri = at.get(o.integer.key)!;
        const words = new Uint32Array(bytes, ri.offset, ri.bytes / 4);
        integers[o.name] = unpackActivations(words, actShape(o.integer.shape, o.integer.name), laneOffset(o.integer.params));
      }
    }
    return { outputs, integers };
  }
}

const STAGING_USAGE = BufferUsage.MAP_READ | BufferUsage.COPY_DST;

/**
 * A session for a float graph (float32 kernels) or a quantized graph (integer
 * kernels, float islands in float32). The whole model is validated against
 * the adapter first (validate.ts): a layer the GPU cannot run is a
 * GpuUnsupportedError naming every such layer, before any buffer is made.
 */
export async function createSession(model: Graph | QuantizedGraph, options: SessionOptions = {}): Promise<Session> {
  const gpu = options.gpu ?? (await requestGpu(options.request));
  const { gpu: _gpu, request: _request, ...plan } = options;
  try {
    validateForGpu(model, gpu.facts, plan);
  } catch (e) {
    if (options.gpu === undefined) gpu.destroy();
    throw e;
  }
  return new Session(gpu, options.gpu === undefined, model, plan);
}
