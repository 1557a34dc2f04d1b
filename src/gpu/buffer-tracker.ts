/**
 * Ownership of GPU buffers. WebGPU frees a buffer's memory only on destroy()
 * (or on garbage collection, whenever that comes), and a buffer cannot be
 * asked whether it was destroyed. So whoever makes buffers makes them through
 * a tracker: it remembers each one until it is destroyed, can destroy all that
 * are left (a failure releases what it had made), and can list them (a test
 * asserts the list is empty after an operation).
 *
 * `watch()` extends this to buffers made directly with device.createBuffer,
 * for the test harness, which must see every buffer, not only the ones made
 * through the tracker.
 */
import { faultyBufferSize } from './fault-injection.js';

/** A buffer descriptor with a label, required: the label is how a leak is reported. */
export type LabeledBufferDescriptor = GPUBufferDescriptor & { readonly label: string };

export class BufferTracker {
  readonly #live = new Set<GPUBuffer>();

  constructor(readonly device: GPUDevice) {}

  /** A new buffer, tracked until destroyed. */
  create(descriptor: LabeledBufferDescriptor): GPUBuffer {
    return this.#track(this.device.createBuffer({ ...descriptor, size: faultyBufferSize(this.device, descriptor) }));
  }

  /**
   * A new buffer holding `data` (its byte length rounded up to a multiple of 4,
   * as mapping requires; the tail is zero), written while mapped at creation,
   * so no queue write is pending when the buffer is first used.
   */
  createWithData(label: string, usage: GPUBufferUsageFlags, data: ArrayBufferView): GPUBuffer {
    const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
    const buffer = this.create({ label, size, usage, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return buffer;
  }

  /** Labels of the tracked buffers not yet destroyed, in creation order. */
  live(): string[] {
    return [...this.#live].map((b) => b.label);
  }

  /** Destroys every tracked buffer not yet destroyed. */
  destroyAll(): void {
    for (const buffer of [...this.#live]) buffer.destroy();
  }

  /**
   * Tracks every buffer made on the device from now on, also by code that
   * calls device.createBuffer itself, until the returned function is called.
   * It replaces createBuffer on this device object only (not the prototype),
   * and one tracker at a time may watch a device.
   */
  watch(): () => void {
    const device = this.device as GPUDevice & { [WATCHED]?: BufferTracker };
    if (device[WATCHED] !== undefined) throw new Error('BufferTracker.watch: the device is already watched');
    const original = device.createBuffer;
    const hadOwn = Object.prototype.hasOwnProperty.call(device, 'createBuffer');
    device[WATCHED] = this;
    device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => this.#track(original.call(device, descriptor));
    return () => {
      // Without an own property the prototype's method shows through again.
      if (hadOwn) device.createBuffer = original;
      else delete (device as Partial<Pick<GPUDevice, 'createBuffer'>>).createBuffer;
      delete device[WATCHED];
    };
  }

  #track(buffer: GPUBuffer): GPUBuffer {
    if (this.#live.has(buffer)) return buffer; // made by create() while watching: seen twice
    this.#live.add(buffer);
    // A buffer cannot report whether it was destroyed, so its destroy() tells
    // the tracker. Wrapping this one object's method (not the prototype's)
    // sees every destroy() call, made through the tracker or not.
    const destroy = buffer.destroy;
    buffer.destroy = (): undefined => {
      this.#live.delete(buffer);
      return destroy.call(buffer);
    };
    return buffer;
  }
}

const WATCHED = Symbol('quantgpu.bufferTracker');
