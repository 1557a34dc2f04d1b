/**
 * Faults a test can inject into the GPU runtime of this process (or of the
 * Chromium runner's page, through GpuRunner.injectFaults), so that the fault
 * paths run through the real WebGPU calls rather than through mocks:
 * - an oversized buffer: buffers whose label starts with a prefix (or above
 *   a size) are asked for at the device's maxBufferSize, which an emulated adapter (SwiftShader)
 *   refuses with a real out-of-memory error (a real GPU may not: the tests run
 *   on SwiftShader);
 * - a broken shader: one line of one shaders/ file replaced, in every kernel
 *   that includes it, by a function the WGSL compiler refuses but that still
 *   parses (so reflection passes and the compiler is the one to fail);
 * - a device lost with a run in flight: the device destroyed right after a
 *   session submits its n-th run (a loss requested from outside may land
 *   after a small model's runs have all finished).
 * Nothing is injected unless a test asks; one set of faults at a time.
 */
import type { ShaderFile } from './generated/shaders.js';
import type { ComposedShader } from './shader-parts.js';

export interface FaultInjection {
  /** Buffers made through a BufferTracker whose label starts with this are asked for at maxBufferSize bytes (unmapped ones only: slots, staging). */
  readonly oversizeBuffers?: string;
  /** Buffers made through a BufferTracker above this many bytes are asked for at maxBufferSize: a device with little memory. */
  readonly oversizeAbove?: number;
  /** The line (1-based) of a shaders/ file replaced by BROKEN_WGSL_LINE; pick a line at module scope, blank or a comment. */
  readonly breakShader?: { readonly file: ShaderFile; readonly line: number };
  /** The device is destroyed right after the n-th run a session submits from now (1: the next), that run in flight. */
  readonly loseDeviceAtSubmit?: number;
}

/** Valid syntax at module scope, refused by the compiler (0.5 is no u32) but not by reflection, which does not type function bodies. */
export const BROKEN_WGSL_LINE = 'fn quantgpu_injected_fault() -> u32 { return 0.5; }';

let active: FaultInjection = {};
/** Runs submitted since the faults were set. */
let submits = 0;

/** Sets the faults (replacing earlier ones); `{}` clears them. */
export function injectFaults(faults: FaultInjection): void {
  active = { ...faults };
  submits = 0;
}

/** Called by a session right after it submits a run: destroys the device at the submit loseDeviceAtSubmit names. */
export function afterRunSubmitted(device: GPUDevice): void {
  if (active.loseDeviceAtSubmit === undefined) return;
  submits++;
  if (submits === active.loseDeviceAtSubmit) device.destroy();
}

/**
 * The size to ask for a buffer with: the device's maxBufferSize where an
 * oversize fault names it. Never for a buffer mapped at creation, whose
 * mapping the host would have to allocate whole.
 */
export function faultyBufferSize(device: GPUDevice, descriptor: GPUBufferDescriptor & { readonly label: string }): number {
  const { label, size } = descriptor;
  if (descriptor.mappedAtCreation === true) return size;
  const prefix = active.oversizeBuffers;
  const named = prefix !== undefined && label.startsWith(prefix);
  const above = active.oversizeAbove !== undefined && size > active.oversizeAbove;
  return named || above ? device.limits.maxBufferSize : size;
}

/** The shader with the injected line broken, where it includes the file named; else the shader itself. */
export function faultyShader(shader: ComposedShader): ComposedShader {
  const fault = active.breakShader;
  const span = fault !== undefined ? shader.parts.find((p) => p.part === fault.file) : undefined;
  if (fault === undefined || span === undefined || fault.line < 1 || fault.line > span.lineCount) return shader;
  const lines = shader.code.split('\n');
  lines[span.firstLine - 1 + fault.line - 1] = BROKEN_WGSL_LINE;
  return { ...shader, code: lines.join('\n') };
}
