/** Bytes as base64 and back, in Node and in browsers (btoa and atob are in both). */
export function bytesToBase64(bytes: Uint8Array): string {
  const chunks: string[] = [];
  // String.fromCharCode takes its bytes as arguments: keep each call well below the argument limit.
  for (let i = 0; i < bytes.length; i += 0x8000) chunks.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  return btoa(chunks.join(''));
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function viewToBase64(v: ArrayBufferView): string {
  return bytesToBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/** 4-byte values from base64; RangeError when the bytes are not a whole number of them. */
function words(text: string, what: string): ArrayBuffer {
  const b = base64ToBytes(text);
  if (b.byteLength % 4 !== 0) throw new RangeError(`base64 of ${what}: ${b.byteLength} bytes is not a whole number of 4-byte values`);
  return b.buffer as ArrayBuffer;
}

export function base64ToFloat32(text: string): Float32Array {
  return new Float32Array(words(text, 'float32'));
}

export function base64ToInt32(text: string): Int32Array {
  return new Int32Array(words(text, 'int32'));
}
