/**
 * What `outputDigest` hashes, as bytes: each final integer output as a
 * little-endian int32, in image order. Both digests (Node's streaming one
 * and the page's Web Crypto one) hash exactly these bytes.
 */
export function digestBytes(words: Int32Array): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setInt32(i * 4, w, true));
  return bytes;
}
