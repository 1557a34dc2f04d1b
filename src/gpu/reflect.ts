/**
 * Bindings and uniform structs are declared once, in the WGSL; this module
 * reads them back with wgsl_reflect. From one entry point's reflection it
 * builds the explicit bind-group layouts of the pipeline (no `layout: 'auto'`,
 * whose layouts cannot be shared between pipelines and silently drop unused
 * bindings), and it writes a uniform struct from a record of values by field
 * name, refusing a missing or unknown field, so that the TypeScript side cannot
 * drift from the struct.
 *
 * No GPU here: everything is plain data, testable in Node without an adapter.
 */
import {
  ResourceType,
  WgslReflect,
  type ArrayInfo,
  type FunctionInfo,
  type TypeInfo,
  type VariableInfo,
} from 'wgsl_reflect/wgsl_reflect.module.js';
import { ShaderStage } from './flags.js';

/** The buffer binding types this runtime uses (GPUBufferBindingType). */
export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

export interface ReflectedBinding {
  /** The WGSL variable's name. */
  readonly name: string;
  readonly group: number;
  readonly binding: number;
  readonly kind: BindingKind;
  /** The WGSL type, as wgsl_reflect writes it (e.g. `Params`, `array<i32>`). */
  readonly type: string;
}

/** The scalar types a uniform field may be made of. */
export type UniformScalar = 'i32' | 'u32' | 'f32';

/** One field of a uniform struct: a scalar, a vector, or a fixed-size array of either. */
export interface UniformField {
  readonly name: string;
  /** Byte offset in the struct (WGSL's uniform layout rules, from wgsl_reflect). */
  readonly offset: number;
  readonly scalar: UniformScalar;
  /** 1 for a scalar, n for vecN. */
  readonly components: number;
  /** Number of array elements; 0 when the field is not an array. */
  readonly arrayLength: number;
  /** Bytes between array elements (16 for every array in a uniform struct); 0 when not an array. */
  readonly stride: number;
}

export interface UniformLayout {
  /** The uniform variable's name (the binding). */
  readonly binding: string;
  /** The struct's name. */
  readonly struct: string;
  /** The struct's size in bytes. */
  readonly size: number;
  readonly fields: readonly UniformField[];
}

export interface ShaderReflection {
  readonly entryPoint: string;
  /** The bindings the entry point uses (directly or through the functions it calls), by group then binding. */
  readonly bindings: readonly ReflectedBinding[];
  /** The layout of each uniform struct the entry point uses, by binding name. */
  readonly uniforms: Readonly<Record<string, UniformLayout>>;
  /** The names of the shader's `override` declarations. */
  readonly overrides: readonly string[];
}

/** Reflects the WGSL `code` as seen from the compute entry point `entryPoint`. */
export function reflectShader(code: string, entryPoint: string): ShaderReflection {
  const reflect = new WgslReflect(code);
  const entry: FunctionInfo | undefined = reflect.entry.compute.find((f) => f.name === entryPoint);
  if (entry === undefined) {
    const names = reflect.entry.compute.map((f) => f.name);
    throw new Error(`reflectShader: no compute entry point '${entryPoint}' (found: ${names.join(', ') || 'none'})`);
  }
  const bindings: ReflectedBinding[] = [];
  const uniforms: Record<string, UniformLayout> = {};
  for (const v of entry.resources) {
    bindings.push({ name: v.name, group: v.group, binding: v.binding, kind: bindingKind(v), type: v.type.getTypeName() });
    if (v.resourceType === ResourceType.Uniform) uniforms[v.name] = uniformLayout(v);
  }
  bindings.sort((a, b) => a.group - b.group || a.binding - b.binding);
  for (let i = 1; i < bindings.length; i++) {
    const [p, b] = [bindings[i - 1]!, bindings[i]!];
    if (p.group === b.group && p.binding === b.binding) {
      throw new Error(`reflectShader: '${p.name}' and '${b.name}' both use @group(${b.group}) @binding(${b.binding})`);
    }
  }
  return { entryPoint, bindings, uniforms, overrides: reflect.overrides.map((o) => o.name) };
}

function bindingKind(v: VariableInfo): BindingKind {
  if (v.resourceType === ResourceType.Uniform) return 'uniform';
  if (v.resourceType === ResourceType.Storage) {
    if (v.access === 'read') return 'read-only-storage';
    if (v.access === 'read_write') return 'storage';
  }
  // Textures, samplers and immediates are not used by the integer kernels.
  throw new Error(
    `reflectShader: binding '${v.name}' (@group(${v.group}) @binding(${v.binding})) is a ` +
      `${ResourceType[v.resourceType] ?? 'resource'} with access '${v.access}'; only uniform and storage buffers are supported`,
  );
}

/**
 * One explicit layout per bind group, index = group number, for a compute
 * pipeline. Groups the entry point skips get an empty layout, since a
 * pipeline layout's groups are numbered densely from 0. A uniform's
 * minBindingSize is its struct size, so a too-small buffer fails when the bind
 * group is made rather than at dispatch.
 */
export function bindGroupLayoutDescriptors(reflection: ShaderReflection, label: string): GPUBindGroupLayoutDescriptor[] {
  const groupCount = reflection.bindings.reduce((n, b) => Math.max(n, b.group + 1), 0);
  const layouts: GPUBindGroupLayoutDescriptor[] = [];
  for (let g = 0; g < groupCount; g++) {
    const entries: GPUBindGroupLayoutEntry[] = reflection.bindings
      .filter((b) => b.group === g)
      .map((b) => ({
        binding: b.binding,
        visibility: ShaderStage.COMPUTE,
        buffer:
          b.kind === 'uniform'
            ? { type: 'uniform', minBindingSize: reflection.uniforms[b.name]!.size }
            : { type: b.kind },
      }));
    layouts.push({ label: `${label}:group${g}`, entries });
  }
  return layouts;
}

const VECTOR_SHORTHAND = /^vec([234])([iuf])$/;
const SHORTHAND_SCALAR: Record<string, UniformScalar> = { i: 'i32', u: 'u32', f: 'f32' };

/** Scalar and component count of a scalar or vector type; undefined for anything else. */
function scalarOrVector(type: TypeInfo): { scalar: UniformScalar; components: number } | undefined {
  if (type.name === 'i32' || type.name === 'u32' || type.name === 'f32') return { scalar: type.name, components: 1 };
  const short = VECTOR_SHORTHAND.exec(type.name);
  if (short !== null) return { scalar: SHORTHAND_SCALAR[short[2]!]!, components: Number(short[1]) };
  const long = /^vec([234])$/.exec(type.name);
  if (long !== null && type.isTemplate) {
    const inner = (type as TypeInfo & { format: TypeInfo | null }).format;
    if (inner !== null && (inner.name === 'i32' || inner.name === 'u32' || inner.name === 'f32')) {
      return { scalar: inner.name, components: Number(long[1]) };
    }
  }
  return undefined;
}

function uniformLayout(v: VariableInfo): UniformLayout {
  if (!v.type.isStruct || v.members === null) {
    throw new Error(`reflectShader: uniform '${v.name}' has type ${v.type.getTypeName()}; a uniform must be a struct (its fields are written by name)`);
  }
  const structName = v.type.name;
  const fields = v.members.map((m): UniformField => {
    const plain = scalarOrVector(m.type);
    if (plain !== undefined) return { name: m.name, offset: m.offset, ...plain, arrayLength: 0, stride: 0 };
    if (m.type.isArray) {
      const arr = m.type as ArrayInfo;
      const element = scalarOrVector(arr.format);
      if (element !== undefined && arr.count > 0) {
        return { name: m.name, offset: m.offset, ...element, arrayLength: arr.count, stride: arr.stride };
      }
    }
    throw new Error(
      `reflectShader: uniform struct ${structName} field '${m.name}' has type ${m.type.getTypeName()}; ` +
        'uniform fields must be i32/u32/f32 scalars, vectors of them, or fixed-size arrays of those',
    );
  });
  return { binding: v.name, struct: structName, size: v.size, fields };
}

/** Field values by name: a number for a scalar, numbers for a vector or an array (arrays of vectors flattened). */
export type UniformValues = Readonly<Record<string, number | readonly number[]>>;

/**
 * The bytes of one uniform struct, every field written from `values` by name.
 * A field without a value, a value without a field, a wrong element count and
 * a number its type cannot hold (a non-integer or out-of-range i32/u32) are
 * errors naming the struct and the field. The buffer is the struct size
 * rounded up to 16 bytes (padding stays zero).
 */
export function writeUniforms(layout: UniformLayout, values: UniformValues): ArrayBuffer {
  const where = `uniform ${layout.binding} (struct ${layout.struct})`;
  const known = new Set(layout.fields.map((f) => f.name));
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new TypeError(`${where}: no field named ${unknown.map((k) => `'${k}'`).join(', ')}`);
  const bytes = new ArrayBuffer(Math.ceil(layout.size / 16) * 16);
  const view = new DataView(bytes);
  for (const f of layout.fields) {
    const value = values[f.name];
    if (value === undefined) throw new TypeError(`${where}: field '${f.name}' has no value`);
    const elements = Math.max(f.arrayLength, 1);
    const expected = elements * f.components;
    const list: readonly number[] = typeof value === 'number' ? [value] : value;
    if (list.length !== expected) {
      throw new TypeError(`${where}: field '${f.name}' takes ${expected} number(s), got ${list.length}`);
    }
    for (let i = 0; i < list.length; i++) {
      const element = Math.floor(i / f.components);
      const offset = f.offset + element * f.stride + (i % f.components) * 4;
      writeScalar(view, offset, f.scalar, list[i]!, `${where}: field '${f.name}'`);
    }
  }
  return bytes;
}

function writeScalar(view: DataView, offset: number, scalar: UniformScalar, x: number, where: string): void {
  if (scalar === 'f32') {
    view.setFloat32(offset, x, true);
    return;
  }
  const [lo, hi] = scalar === 'i32' ? [-2147483648, 2147483647] : [0, 4294967295];
  if (!Number.isInteger(x) || x < lo || x > hi) throw new RangeError(`${where}: ${x} is not ${scalar === 'u32' ? 'a' : 'an'} ${scalar}`);
  if (scalar === 'i32') view.setInt32(offset, x, true);
  else view.setUint32(offset, x, true);
}
