/**
 * Reading a buffer back to the host: a copy into a MAP_READ staging buffer
 * (storage buffers cannot be mapped), mapped, copied out, destroyed.
 */
import type { BufferTracker } from './buffer-tracker.js';
import { BufferUsage, MapMode } from './flags.js';

/**
 * The `byteLength` bytes of `source` from `offset` (both multiples of 4). The
 * staging buffer is made through `tracker` and destroyed before returning,
 * also on failure.
 */
export async function readBuffer(tracker: BufferTracker, source: GPUBuffer, byteLength: number = source.size, offset = 0): Promise<ArrayBuffer> {
  const label = `${source.label}:readback`;
  const staging = tracker.create({ label, size: byteLength, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  try {
    const encoder = tracker.device.createCommandEncoder({ label });
    encoder.copyBufferToBuffer(source, offset, staging, 0, byteLength);
    tracker.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MapMode.READ);
    return staging.getMappedRange().slice(0);
  } finally {
    staging.destroy();
  }
}
