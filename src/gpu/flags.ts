/**
 * WebGPU's flag constants, with the values the specification fixes. Browsers
 * define GPUBufferUsage, GPUShaderStage and GPUMapMode as globals; the `webgpu`
 * package for Node only hands them out in its `globals` object (to be copied
 * onto globalThis by hand). Keeping our own copy lets the runtime run in both
 * hosts without touching globalThis.
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  INDEX: 0x0010,
  VERTEX: 0x0020,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  INDIRECT: 0x0100,
  QUERY_RESOLVE: 0x0200,
} as const;

export const ShaderStage = {
  VERTEX: 0x1,
  FRAGMENT: 0x2,
  COMPUTE: 0x4,
} as const;

export const MapMode = {
  READ: 0x1,
  WRITE: 0x2,
} as const;
