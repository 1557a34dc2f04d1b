/**
 * One error class per kind of failure. Each names the node, layer, field or
 * resource at fault, so that a CLI can print `Name: message` as its one line.
 */
export class QuantGpuError extends Error {
  override name = 'QuantGpuError';
}

/** The model file cannot be read: truncated, wrong format, cycles, missing tensors. */
export class ModelFormatError extends QuantGpuError {
  override name = 'ModelFormatError';
}

/** The model uses an operator (or an operator option) that quantgpu does not implement. */
export class UnsupportedOperatorError extends QuantGpuError {
  override name = 'UnsupportedOperatorError';
  constructor(
    readonly node: string,
    readonly opType: string,
    detail?: string,
  ) {
    super(`node '${node}': operator ${opType} ${detail ?? 'is not supported'}`);
  }
}

/** Shapes that do not agree, or an input of the wrong shape. */
export class ShapeError extends QuantGpuError {
  override name = 'ShapeError';
}

/** A user-supplied input (tensor file, CLI option) is malformed. */
export class InputError extends QuantGpuError {
  override name = 'InputError';
}

/** A QuantConfig (or a calibration file) with a bad field; the message names it. */
export class QuantConfigError extends QuantGpuError {
  override name = 'QuantConfigError';
}

/** No WebGPU adapter or device could be had; the message lists every attempt (host, driver, flags). */
export class GpuUnavailableError extends QuantGpuError {
  override name = 'GpuUnavailableError';
  constructor(
    readonly reason: string,
    readonly tried: readonly string[],
  ) {
    super(`${reason}; tried: ${tried.length > 0 ? tried.join('; ') : 'nothing'}`);
  }
}

/** A layer the GPU runtime has no kernel for (an operator, a bitwidth, a layout); the message names the layer and what is missing. */
export class GpuUnsupportedError extends QuantGpuError {
  override name = 'GpuUnsupportedError';
}

/** A tensor, weight or dispatch beyond the adapter's limits; the message names the layer, the size and the limit. */
export class ResourceLimitError extends QuantGpuError {
  override name = 'ResourceLimitError';
  constructor(
    message: string,
    readonly limit: string,
  ) {
    super(message);
  }
}

/** Buffers the GPU could not allocate (the device reported out-of-memory); the message names what was being allocated and how many bytes. Nothing of the allocation is kept. */
export class GpuOutOfMemoryError extends QuantGpuError {
  override name = 'GpuOutOfMemoryError';
  constructor(
    message: string,
    readonly bytes: number,
  ) {
    super(message);
  }
}

/** A WGSL kernel variant the device's compiler refused; the message names the variant and each compiler message's shaders/ file and line. */
export class ShaderCompileError extends QuantGpuError {
  override name = 'ShaderCompileError';
  constructor(
    message: string,
    readonly variant: string,
    /** `shaders/<file>:<line>` of the first compiler error, where it could be traced to a file. */
    readonly location: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The GPU device was lost (destroyed, driver reset, out of memory); runs pending at that moment reject with this. Create a new session. */
export class DeviceLostError extends QuantGpuError {
  override name = 'DeviceLostError';
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`the GPU device was lost (${reason})${detail ? `: ${detail}` : ''}; create a new session`);
  }
}

/** ONNX Runtime (the fast float and fake-quant executor) could not be loaded or could not run the model; the message lists every attempt. */
export class ExecutorUnavailableError extends QuantGpuError {
  override name = 'ExecutorUnavailableError';
  constructor(
    readonly reason: string,
    readonly tried: readonly string[],
  ) {
    super(tried.length > 0 ? `${reason}; tried: ${tried.join('; ')}` : reason);
  }
}
