/**
 * Bind-group layouts and uniform bytes derived from WGSL by reflection
 * (src/gpu/reflect.ts), without a GPU.
 */
import { describe, expect, it } from 'vitest';
import { ShaderStage } from '../../src/gpu/flags.js';
import { bindGroupLayoutDescriptors, reflectShader, writeUniforms } from '../../src/gpu/reflect.js';
import { composeShader } from '../../src/gpu/shader-parts.js';

const SHADER = /* wgsl */ `
struct Params {
  count: u32,
  bias: i32,
  scale: f32,
  offsets: vec2<i32>,
  tint: vec3f,
  ranges: array<vec4<i32>, 2>,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> weights: array<u32>;
@group(2) @binding(1) var<storage, read_write> out: array<i32>;
@group(1) @binding(0) var<storage, read> unused_by_main: array<u32>;

fn load_weight(i: u32) -> u32 { return weights[i]; }

@compute @workgroup_size(8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  out[id.x] = i32(load_weight(id.x) + params.count) + params.bias;
}
@compute @workgroup_size(8)
fn other(@builtin(global_invocation_id) id: vec3<u32>) {
  out[id.x] = i32(unused_by_main[id.x]);
}
`;

describe('reflectShader and bindGroupLayoutDescriptors', () => {
  const reflection = reflectShader(SHADER, 'main');

  it('lists the bindings the entry point uses, also through called functions, by group and binding', () => {
    expect(reflection.bindings.map((b) => [b.name, b.group, b.binding, b.kind])).toEqual([
      ['params', 0, 0, 'uniform'],
      ['weights', 0, 2, 'read-only-storage'],
      ['out', 2, 1, 'storage'],
    ]);
  });

  it('gives one explicit layout per group, empty for a group the entry point skips', () => {
    const layouts = bindGroupLayoutDescriptors(reflection, 'k:x');
    expect(layouts).toEqual([
      {
        label: 'k:x:group0',
        entries: [
          { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', minBindingSize: 80 } },
          { binding: 2, visibility: ShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
        ],
      },
      { label: 'k:x:group1', entries: [] },
      { label: 'k:x:group2', entries: [{ binding: 1, visibility: ShaderStage.COMPUTE, buffer: { type: 'storage' } }] },
    ]);
  });

  it('reads the uniform struct with WGSL uniform layout offsets', () => {
    const layout = reflection.uniforms['params']!;
    expect(layout.struct).toBe('Params');
    expect(layout.size).toBe(80);
    expect(layout.fields.map((f) => [f.name, f.offset, f.scalar, f.components, f.arrayLength])).toEqual([
      ['count', 0, 'u32', 1, 0],
      ['bias', 4, 'i32', 1, 0],
      ['scale', 8, 'f32', 1, 0],
      ['offsets', 16, 'i32', 2, 0],
      ['tint', 32, 'f32', 3, 0],
      ['ranges', 48, 'i32', 4, 2],
    ]);
  });

  it('reflects the test kernel composed from its parts', () => {
    const r = reflectShader(composeShader(['requant.wgsl', 'test/requant_test.wgsl']).code, 'main');
    expect(r.bindings.map((b) => `${b.group}.${b.binding} ${b.name} ${b.kind}`)).toEqual([
      '0.0 params uniform',
      '0.1 cases read-only-storage',
      '0.2 results storage',
    ]);
    expect([...r.overrides].sort()).toEqual(['PRIMITIVE', 'WORKGROUP_SIZE']);
  });

  it('refuses an unknown entry point, a texture binding, a non-struct uniform and a nested struct field', () => {
    expect(() => reflectShader(SHADER, 'nope')).toThrow(/no compute entry point 'nope' \(found: main, other\)/);
    const texture = `@group(0) @binding(0) var t: texture_2d<f32>;
      @compute @workgroup_size(1) fn main() { _ = textureLoad(t, vec2<i32>(0, 0), 0); }`;
    expect(() => reflectShader(texture, 'main')).toThrow(/binding 't'.*only uniform and storage buffers/);
    const scalarUniform = `@group(0) @binding(0) var<uniform> n: u32;
      @group(0) @binding(1) var<storage, read_write> o: array<u32>;
      @compute @workgroup_size(1) fn main() { o[0] = n; }`;
    expect(() => reflectShader(scalarUniform, 'main')).toThrow(/uniform 'n' has type u32; a uniform must be a struct/);
    const nested = `struct Inner { x: u32 } struct P { inner: Inner }
      @group(0) @binding(0) var<uniform> p: P;
      @group(0) @binding(1) var<storage, read_write> o: array<u32>;
      @compute @workgroup_size(1) fn main() { o[0] = p.inner.x; }`;
    expect(() => reflectShader(nested, 'main')).toThrow(/struct P field 'inner' has type Inner/);
  });
});

describe('writeUniforms', () => {
  const layout = reflectShader(SHADER, 'main').uniforms['params']!;
  const values = { count: 4000000000, bias: -7, scale: 0.5, offsets: [1, -2], tint: [0.25, 0.5, 1], ranges: [1, 2, 3, 4, -5, -6, -7, -8] };

  it('writes each field at its offset, little-endian, padding zero, size rounded to 16', () => {
    const bytes = writeUniforms(layout, values);
    expect(bytes.byteLength).toBe(80);
    const v = new DataView(bytes);
    expect(v.getUint32(0, true)).toBe(4000000000);
    expect(v.getInt32(4, true)).toBe(-7);
    expect(v.getFloat32(8, true)).toBe(0.5);
    expect(v.getUint32(12, true)).toBe(0); // padding before the vec2
    expect([v.getInt32(16, true), v.getInt32(20, true)]).toEqual([1, -2]);
    expect([v.getFloat32(32, true), v.getFloat32(36, true), v.getFloat32(40, true)]).toEqual([0.25, 0.5, 1]);
    expect(new Int32Array(bytes, 48, 8)).toEqual(new Int32Array([1, 2, 3, 4, -5, -6, -7, -8]));
  });

  it('fails on a field without a value, naming the field and the struct', () => {
    const { bias: _bias, ...withoutBias } = values;
    expect(() => writeUniforms(layout, withoutBias)).toThrow("uniform params (struct Params): field 'bias' has no value");
  });

  it('fails on a value for no field, a wrong count, and a number the type cannot hold', () => {
    expect(() => writeUniforms(layout, { ...values, biass: 1 })).toThrow(/no field named 'biass'/);
    expect(() => writeUniforms(layout, { ...values, offsets: [1, 2, 3] })).toThrow(/field 'offsets' takes 2 number\(s\), got 3/);
    expect(() => writeUniforms(layout, { ...values, ranges: [1, 2, 3, 4] })).toThrow(/field 'ranges' takes 8/);
    expect(() => writeUniforms(layout, { ...values, count: -1 })).toThrow(/field 'count': -1 is not a u32/);
    expect(() => writeUniforms(layout, { ...values, bias: 2 ** 31 })).toThrow(/field 'bias': 2147483648 is not an i32/);
    expect(() => writeUniforms(layout, { ...values, bias: 1.5 })).toThrow(/1.5 is not an i32/);
  });
});
