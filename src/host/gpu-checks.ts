/**
 * The checks that ordinary tests miss (STYLE.md point 10), one mechanism for
 * every host and every kind of GPU test: a WebGPU error does not throw, it
 * only marks an object invalid, and a buffer never destroyed holds memory
 * until garbage collection, so a test passes over both unless it asks.
 *
 * A GpuWatch sits on one device (made once per device, in whichever process
 * holds it: this one for `node`, the page for `browser`). It sees every buffer
 * made on the device and every uncaptured error. A check frame, begun and
 * ended around a piece of work, collects what happened inside it:
 * - error scopes (validation, out-of-memory, internal) pushed at its begin
 *   and popped at its end, after the submitted work is done, plus uncaptured
 *   errors raised while it is the innermost frame;
 * - every buffer made while it is open and not destroyed by its end, which
 *   the end reports by label and then destroys (one leaky test must not hold
 *   memory for the next).
 * Frames nest (a test program's run inside a whole test's frame): the inner
 * one reports and cleans up its own findings, so the outer one sees only
 * what is left. A runner's checks (RunnerChecks) are frames on each device it
 * makes while they are on, since a test may lose its device and get another.
 */

/** What is alive on a device now, counted by its watch from the moment the watch was installed. */
export interface LiveBuffers {
  /** Buffers made and not destroyed. */
  readonly count: number;
  /** Their sizes, summed. */
  readonly bytes: number;
}

/** What a frame found. */
export interface GpuCheckReport {
  /** WebGPU errors raised in the frame, scoped or uncaptured, as `kind: message`. */
  readonly gpuErrors: readonly string[];
  /** Labels of buffers made in the frame and not destroyed by its end, in creation order. */
  readonly leakedBuffers: readonly string[];
}

const SCOPES: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

const WATCHES = new WeakMap<GPUDevice, GpuWatch>();

export class GpuWatch {
  readonly #frames: CheckFrame[] = [];
  /** Buffers made since the watch was installed and not destroyed, frames or not (the soak test's count): counted, not held, so that a leak stays collectable. */
  #live = { count: 0, bytes: 0 };
  #lost = false;

  /** The watch of a device, installed on first use and kept for the device's life. */
  static of(device: GPUDevice): GpuWatch {
    let watch = WATCHES.get(device);
    if (watch === undefined) {
      watch = new GpuWatch(device);
      WATCHES.set(device, watch);
    }
    return watch;
  }

  private constructor(readonly device: GPUDevice) {
    // An own property over the prototype's method, on this device object only; a
    // BufferTracker.watch() of a test layered over it restores it when done.
    const createBuffer = device.createBuffer;
    device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => this.#track(createBuffer.call(device, descriptor));
    device.addEventListener('uncapturederror', (event: Event) => {
      this.#frames.at(-1)?.gpuErrors.push(`uncaptured: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
    void device.lost.then(() => {
      this.#lost = true;
    });
  }

  /** Whether the device is lost (destroyed, or lost by the host). */
  get lost(): boolean {
    return this.#lost;
  }

  /** Opens a frame: error scopes pushed now, buffers tracked from now. End it with end(), innermost first. */
  begin(): CheckFrame {
    for (const s of SCOPES) this.device.pushErrorScope(s);
    const frame = new CheckFrame(this, (f) => this.#close(f));
    this.#frames.push(frame);
    return frame;
  }

  #close(frame: CheckFrame): void {
    if (this.#frames.at(-1) !== frame) throw new Error('GPU check frames must end innermost first');
    this.#frames.pop();
  }

  /** The buffers alive on the device now. */
  liveBuffers(): LiveBuffers {
    return { ...this.#live };
  }

  #track(buffer: GPUBuffer): GPUBuffer {
    const frames = [...this.#frames];
    const size = buffer.size;
    let alive = true;
    this.#live = { count: this.#live.count + 1, bytes: this.#live.bytes + size };
    for (const f of frames) f.live.add(buffer);
    // A buffer cannot say whether it was destroyed, so its destroy() tells the
    // frames; wrapping this one object's method sees every call, whoever makes it.
    const destroy = buffer.destroy;
    buffer.destroy = (): undefined => {
      // Destroying twice is allowed, and counts once.
      if (alive) this.#live = { count: this.#live.count - 1, bytes: this.#live.bytes - size };
      alive = false;
      for (const f of frames) f.live.delete(buffer);
      return destroy.call(buffer);
    };
    return buffer;
  }
}

export class CheckFrame {
  readonly gpuErrors: string[] = [];
  readonly live = new Set<GPUBuffer>();
  #ended = false;

  constructor(
    private readonly watch: GpuWatch,
    private readonly close: (frame: CheckFrame) => void,
  ) {}

  /** Waits for the submitted work, pops the frame's scopes, and reports (then destroys) what it left. */
  async end(): Promise<GpuCheckReport> {
    if (this.#ended) throw new Error('GPU check frame ended twice');
    this.#ended = true;
    const device = this.watch.device;
    // On a lost device no work is pending and its scopes answer nothing useful;
    // its buffers are still the runtime's to destroy (a failure frees what it
    // made), so those left alive are reported as on a live device.
    const lost = this.watch.lost;
    if (!lost) await device.queue.onSubmittedWorkDone();
    for (const s of [...SCOPES].reverse()) {
      const error = await device.popErrorScope().catch((e: unknown) => (lost ? null : Promise.reject(e)));
      if (error !== null && !lost) this.gpuErrors.push(`${s}: ${error.message}`);
    }
    this.close(this);
    const leaked = [...this.live];
    for (const buffer of leaked) buffer.destroy();
    return { gpuErrors: [...this.gpuErrors], leakedBuffers: leaked.map((b) => b.label) };
  }
}

/**
 * A runner's checks: between begin() and end(), a frame on every device the
 * runner uses (the one it has, and each one it makes after a loss). end()
 * merges their reports.
 */
export class RunnerChecks {
  #frames: CheckFrame[] | undefined;

  /** Starts the checks; `device` is the runner's current device, if it has one. */
  begin(device: GPUDevice | undefined): void {
    if (this.#frames !== undefined) throw new Error('GPU checks begun twice without an end');
    this.#frames = device !== undefined ? [GpuWatch.of(device).begin()] : [];
  }

  /** The runner made a device: watched from now on (its live buffers counted), and checked while the checks are on. */
  deviceMade(device: GPUDevice): void {
    const watch = GpuWatch.of(device);
    this.#frames?.push(watch.begin());
  }

  async end(): Promise<GpuCheckReport> {
    const frames = this.#frames ?? [];
    this.#frames = undefined;
    const reports: GpuCheckReport[] = [];
    for (const f of frames.reverse()) reports.push(await f.end());
    return { gpuErrors: reports.flatMap((r) => r.gpuErrors), leakedBuffers: reports.flatMap((r) => r.leakedBuffers) };
  }
}
