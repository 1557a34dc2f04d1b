/**
 * Compute pipelines, made once per shader variant. A variant is a typed object
 * naming its kernel and everything that changes the shader (dot path, bits,
 * tile size, ...), never a shape: shapes travel in uniforms, so layers share
 * pipelines. Its cache key is derived, not written by hand: the variant's JSON
 * with keys sorted, so `{a, b}` and `{b, a}` are one pipeline. The pipeline's
 * label is `kernel:key`, so a validation message names the exact variant.
 *
 * Each pipeline gets explicit bind-group layouts reflected from its WGSL
 * (reflect.ts), and its override constants through `compute.constants`.
 */
import { ShaderCompileError } from '../errors.js';
import { faultyShader } from './fault-injection.js';
import { bindGroupLayoutDescriptors, reflectShader, type ShaderReflection } from './reflect.js';
import { locateLine, type ComposedShader } from './shader-parts.js';

/** Every variant names its kernel; the other fields are the kernel's own. */
export interface KernelVariant {
  readonly kernel: string;
}

/** How to build the pipeline of any variant of one kernel. */
export interface KernelSource<V extends KernelVariant> {
  /** The WGSL of the variant, put together from named parts. */
  shader(variant: V): ComposedShader;
  /** The compute entry point in that WGSL. */
  readonly entryPoint: string;
  /** Values of the shader's `override` constants for the variant, by WGSL name. */
  constants?(variant: V): Readonly<Record<string, number>>;
}

export interface CompiledKernel {
  readonly key: string;
  /** `kernel:key`, the label of the pipeline, its layouts and its shader module. */
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  /** Index = bind group number. */
  readonly bindGroupLayouts: readonly GPUBindGroupLayout[];
  readonly reflection: ShaderReflection;
  readonly shader: ComposedShader;
}

/**
 * JSON with object keys sorted at every level, so that equal variants give
 * equal strings. Only JSON data is accepted: undefined, functions, symbols,
 * bigints, non-finite numbers and objects that are not plain would make two
 * different variants share a key (JSON.stringify drops or nulls them), so
 * they are errors.
 */
export function stableJson(value: unknown, path = 'variant'): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => stableJson(v, `${path}[${i}]`)).join(',')}]`;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path}: not a plain object`);
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(record[k], `${path}.${k}`)}`).join(',')}}`;
  }
  throw new TypeError(`${path}: ${typeof value} has no JSON form`);
}

/** The cache key of a variant: its stable JSON. */
export function variantKey(variant: KernelVariant): string {
  return stableJson(variant);
}

export class PipelineCache {
  // Promises, so that two requests for one variant made before the first
  // finishes compile it once.
  readonly #pipelines = new Map<string, Promise<CompiledKernel>>();

  constructor(private readonly device: GPUDevice) {}

  /** How many variants are cached (or compiling). */
  get size(): number {
    return this.#pipelines.size;
  }

  /** The pipeline of `variant`, compiled on first use. A failed compile is not cached. */
  get<V extends KernelVariant>(source: KernelSource<V>, variant: V): Promise<CompiledKernel> {
    const key = variantKey(variant);
    let compiled = this.#pipelines.get(key);
    if (compiled === undefined) {
      compiled = this.#compile(source, variant, key);
      this.#pipelines.set(key, compiled);
      const mine = compiled;
      mine.catch(() => {
        if (this.#pipelines.get(key) === mine) this.#pipelines.delete(key);
      });
    }
    return compiled;
  }

  async #compile<V extends KernelVariant>(source: KernelSource<V>, variant: V, key: string): Promise<CompiledKernel> {
    const label = `${variant.kernel}:${key}`;
    const shader = faultyShader(source.shader(variant));
    const reflection = reflectShader(shader.code, source.entryPoint);
    const constants = source.constants?.(variant) ?? {};
    const unknown = Object.keys(constants).filter((name) => !reflection.overrides.includes(name));
    if (unknown.length > 0) {
      throw new Error(`${label}: the shader has no override named ${unknown.join(', ')} (it has: ${reflection.overrides.join(', ') || 'none'})`);
    }
    const bindGroupLayouts = bindGroupLayoutDescriptors(reflection, label).map((d) => this.device.createBindGroupLayout(d));
    // A shader the compiler refuses raises a validation error besides the
    // rejection: captured here, so that it is reported once, as the typed error.
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label, code: shader.code });
    let pipeline: GPUComputePipeline | undefined;
    let failure: unknown;
    try {
      pipeline = await this.device.createComputePipelineAsync({
        label,
        layout: this.device.createPipelineLayout({ label, bindGroupLayouts }),
        compute: { module, entryPoint: source.entryPoint, constants: { ...constants } },
      });
    } catch (e) {
      failure = e;
    }
    // Compiles run concurrently and scopes are one stack per device, so this pop
    // may take another compile's scope: the rejection, not the scope, says whether it failed.
    const scoped = await this.device.popErrorScope().catch(() => null);
    if (pipeline === undefined) {
      const messages = await compilerMessages(module, shader);
      const first = messages.find((m) => m.type === 'error') ?? messages[0];
      const detail = messages.length > 0 ? messages.map((m) => `${m.type} at ${m.where}: ${m.text}`).join('; ') : ((failure as Error | undefined)?.message ?? scoped?.message ?? 'no message').split('\n')[0]!;
      throw new ShaderCompileError(`kernel ${label} did not compile: ${detail}`, label, first?.where ?? 'unknown', failure !== undefined ? { cause: failure } : undefined);
    }
    return { key, label, pipeline, bindGroupLayouts, reflection, shader };
  }
}

/** The compiler's errors and warnings, each traced back to its shaders/ file and line. */
async function compilerMessages(module: GPUShaderModule, shader: ComposedShader): Promise<Array<{ type: string; where: string; text: string }>> {
  const info = await module.getCompilationInfo();
  return info.messages.map((m) => {
    const at = locateLine(shader, m.lineNum);
    const where = at !== undefined ? `shaders/${at.part}:${at.line}:${m.linePos}` : `line ${m.lineNum}`;
    return { type: m.type, where, text: m.message.split('\n')[0]! };
  });
}
