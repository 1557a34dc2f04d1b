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

export function base64ToFloat32(text: string): Float32Array {
  const b = base64ToBytes(text);
  return new Float32Array(b.buffer, 0, b.byteLength / 4);
}

export function base64ToInt32(text: string): Int32Array {
  const b = base64ToBytes(text);
  return new Int32Array(b.buffer, 0, b.byteLength / 4);
}
