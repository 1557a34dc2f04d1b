/**
 * Int32 arrays as base64 text: what crosses between the test process and the
 * page must be JSON, and a JSON array of numbers is ~3x larger and much slower
 * to parse than base64 for the hundred thousand cases a test sends. Works in
 * Node and in the browser (atob and btoa are in both).
 */
export function encodeInt32(values: Int32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const chunks: string[] = [];
  // String.fromCharCode takes its bytes as arguments: keep each call well below the argument limit.
  for (let i = 0; i < bytes.length; i += 0x8000) chunks.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  return btoa(chunks.join(''));
}

export function decodeInt32(text: string): Int32Array {
  const binary = atob(text);
  if (binary.length % 4 !== 0) throw new Error(`decodeInt32: ${binary.length} bytes is not a whole number of int32`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Int32Array(bytes.buffer);
}
