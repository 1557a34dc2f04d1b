/** Whether this code runs in Node (worker threads, onnxruntime-node) rather than in a page. */
export const IS_NODE = typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
