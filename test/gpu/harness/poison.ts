/**
 * Output buffers start filled with a poison word, not zeros: an element the
 * kernel never writes then reads back as 0xDEADBEEF and fails an exact
 * comparison, where a zero would pass for every expected zero.
 */
import type { BufferTracker } from '../../../src/gpu/buffer-tracker.js';

export const POISON = 0xdeadbeef;
/** The poison word read as an i32. */
export const POISON_I32 = POISON | 0;

export function createPoisonedBuffer(tracker: BufferTracker, label: string, usage: GPUBufferUsageFlags, byteSize: number): GPUBuffer {
  const words = new Uint32Array(Math.ceil(byteSize / 4)).fill(POISON);
  return tracker.createWithData(label, usage, words);
}
