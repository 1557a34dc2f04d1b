import { createHash, type Hash } from 'node:crypto';

/**
 * SHA-256 over the final integer outputs of every evaluated image, in order,
 * as little-endian int32: two backends that agree bit for bit give the same digest.
 */
export class OutputDigest {
  private readonly hash: Hash = createHash('sha256');

  add(words: Int32Array): void {
    const bytes = new Uint8Array(words.length * 4);
    const view = new DataView(bytes.buffer);
    words.forEach((w, i) => view.setInt32(i * 4, w, true));
    this.hash.update(bytes);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
