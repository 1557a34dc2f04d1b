/** The seeded generator the tests share (the library's own, src/gpu/synthetic-layer.ts), so a failing case reproduces exactly. */
export { seededRandom as mulberry32 } from '../../src/gpu/synthetic-layer.js';
