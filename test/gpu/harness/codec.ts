/**
 * Int32 arrays as base64 text: what crosses between the test process and the
 * page must be JSON, and a JSON array of numbers is ~3x larger and much slower
 * to parse than base64 for the hundred thousand cases a test sends. The
 * library's own base64 (src/io/base64.ts), which the runtime's Chromium
 * runner uses too.
 */
export { viewToBase64 as encodeInt32, base64ToInt32 as decodeInt32 } from '../../../src/io/base64.js';
