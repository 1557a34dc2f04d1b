import { createHash, type Hash } from 'node:crypto';
import { digestBytes } from './digest-words.js';

/**
 * SHA-256 over the final integer outputs of every evaluated image, in order,
 * as little-endian int32: two backends that agree bit for bit give the same digest.
 * The page computes the same value with Web Crypto (`WebOutputDigest`).
 */
export class OutputDigest {
  private readonly hash: Hash = createHash('sha256');

  add(words: Int32Array): void {
    this.hash.update(digestBytes(words));
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
