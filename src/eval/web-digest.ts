import { digestBytes } from './digest-words.js';

/**
 * `OutputDigest` for the browser (no node:crypto there): the same bytes,
 * hashed once at the end by Web Crypto, which has no streaming SHA-256.
 * The outputs of a few thousand images are a few hundred KiB: keeping them
 * until `hex()` costs nothing that matters.
 */
export class WebOutputDigest {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  add(words: Int32Array): void {
    const b = digestBytes(words);
    this.chunks.push(b);
    this.length += b.length;
  }

  async hex(): Promise<string> {
    const all = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    const hash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', all));
    return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
  }
}
