/**
 * Where the igemm kernel's time goes, on the adapter at hand: the kernel as
 * the engine runs it, then with parts of its work taken out of the WGSL, side
 * by side in one run. The stripped variants compute wrong numbers by design:
 * they exist to be timed, never to be used. Each strip names the text it
 * replaces and fails loudly when the shaders no longer contain it.
 *
 *   npx tsx bench/igemm-ablation.ts [--only NAME-PART] [--rounds N] [--json]
 *
 * Columns (GOP/s as if the full work were done, a MAC counting 2 ops):
 *   engine          the kernel the engine plans (dot4I8Packed where available)
 *   no epilogue     requantization replaced by a shift (loads, dots, stores stay)
 *   no dots         dot4I8Packed replaced by an xor
 *   no loads        weight and activation words made from their indices
 *   no loads+dots   both
 *   epilogue only   no reduction loop at all: set-up, requantization, stores
 *   nothing         no reduction, no requantization: set-up and stores
 *   f32             our float32 kernel on the same shape, for scale
 */
import { requestGpu } from '../src/gpu/device.js';
import { convKernelPlan, igemmKernel, planConv, type IgemmVariant } from '../src/gpu/ops/conv.js';
import { im2colConv } from '../src/gpu/ops/im2col.js';
import { floatConvKernel, planFloatConv } from '../src/gpu/ops/float-conv.js';
import { PipelineCache, type KernelSource, type KernelVariant } from '../src/gpu/pipeline-cache.js';
import { seededRandom, syntheticActivation, syntheticConv } from '../src/gpu/synthetic-layer.js';
import { median, timeKernels, type TimedKernel } from '../src/gpu/time-kernels.js';
import type { ConvLayer } from '../src/ir/layers.js';
import { MBV2, ZOO, type Shape } from './conv-shapes.js';
import { formatTable } from './table.js';

type Strip = (wgsl: string) => string;

/** Replace `from` by `to` in the shader, or fail naming what was not found. */
function replacing(from: string | RegExp, to: string): Strip {
  return (wgsl) => {
    const out = wgsl.replace(from, to);
    if (out === wgsl) throw new Error(`igemm-ablation: the shaders no longer contain ${String(from)}; update this bench`);
    return out;
  };
}

const noEpilogue = replacing('let x = multiply_by_quantized_multiplier(acc, m0, shift);', 'let x = acc >> 10u;');
const noDots = replacing('return dot4I8Packed(a, b);', 'return bitcast<i32>(a ^ b);');
// Phony assignments keep the bindings in the shader's interface, so the bind group still fits.
const noLoads: Strip = (wgsl) =>
  replacing(/weights\[(w_row\.[xyzw] \+ k)\]/g, '(($1) * 0x01010101u)')(
    replacing('return select(activations[u32(max(base, 0)) + w], params.pad_word, base < 0);', 'return select(u32(base) * 3u + w, params.pad_word, base < 0);')(wgsl),
  ).replace('let cw = gid.x;', 'let cw = gid.x;\n  _ = weights[0];\n  _ = activations[0];');
const noReduction = replacing(/for \(var g = g_first; g <= g_last; g\+\+\) \{[\s\S]*?\n  \}\n  let q = out_params/, '_ = weights[0];\n  _ = activations[0];\n  let q = out_params');

const STRIPS: Array<{ label: string; strip?: Strip }> = [
  { label: 'engine' },
  { label: 'no epilogue', strip: noEpilogue },
  { label: 'no dots', strip: noDots },
  { label: 'no loads', strip: noLoads },
  { label: 'no loads+dots', strip: (w) => noLoads(noDots(w)) },
  { label: 'epilogue only', strip: noReduction },
  { label: 'nothing', strip: (w) => noEpilogue(noReduction(w)) },
];

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const only = arg('--only');
const rounds = Number(arg('--rounds') ?? 3);
const json = process.argv.includes('--json');
const shapes: Shape[] = [...MBV2, ...ZOO].filter((s) => !s.depthwise && (only === undefined || s.name.includes(only)));

const gpu = await requestGpu();
if (!gpu.facts.dot4I8Packed) throw new Error('igemm-ablation strips the dot4I8Packed path; this adapter lacks packed_4x8_integer_dot_product');
const cache = new PipelineCache(gpu.device);
const rnd = seededRandom(5);
const rows: Array<Record<string, string | number>> = [];
for (const s of shapes) {
  const n = s.batch ?? 1;
  const inShape = [n, s.c, s.hw, s.hw];
  const oh = Math.floor((s.hw + 2 * ((s.k - 1) >> 1) - s.k) / s.stride) + 1;
  const macs = n * s.m * oh * oh * s.c * s.k * s.k;
  const conv = syntheticConv(s, 8);
  // A first layer with few channels runs as a 1x1 reduction over its im2col copy (src/gpu/ops/im2col.ts): both forms.
  const im = im2colConv(conv, inShape);
  for (const form of im === undefined ? ['direct'] : ['direct', 'im2col']) {
    const [q, shape] = form === 'im2col' ? [im!.layer, im!.shape] : [conv, inShape];
    const inWords = form === 'im2col' ? n * oh * oh * Math.ceil(shape[1]! / 4) : n * s.hw * s.hw * Math.ceil(s.c / 4);
    const plan = convKernelPlan(planConv(q, syntheticActivation('affine'), syntheticActivation('affine'), shape, gpu.facts, { dot4: true, fitWorkgroup: true }), 'x', 'y');
    const candidates: TimedKernel[] = STRIPS.map(({ label, strip }, i) => {
      // The strip's index joins the variant, so that each stripped shader is its own pipeline.
      const kernel: KernelSource<IgemmVariant & { ablation: number }> = {
        shader: (v) => {
          const composed = igemmKernel.shader(v);
          return strip === undefined ? composed : { ...composed, code: strip(composed.code) };
        },
        entryPoint: igemmKernel.entryPoint,
        constants: (v) => igemmKernel.constants!(v),
      };
      return { label, kernel: kernel as unknown as KernelSource<KernelVariant>, plan: { ...plan, variant: { ...plan.variant, ablation: i } as IgemmVariant }, inputBytes: inWords * 4, outputBytes: n * oh * oh * Math.ceil(s.m / 4) * 4 };
    });
    const w = { shape: [s.m, s.c, s.k, s.k], data: Float32Array.from({ length: s.m * s.c * s.k * s.k }, () => rnd() - 0.5) };
    candidates.push({ label: 'f32', kernel: floatConvKernel as unknown as KernelSource<KernelVariant>, plan: planFloatConv(conv.layer as ConvLayer, inShape, w, undefined, 65535), inputBytes: n * s.c * s.hw * s.hw * 4, outputBytes: n * s.m * oh * oh * 4 });
    // Rounds of interleaved medians, then the median over rounds: a slow spell of the shared machine moves every column alike.
    const perRound: number[][] = [];
    for (let r = 0; r < rounds; r++) perRound.push(await timeKernels(gpu.device, cache, gpu.facts, candidates, 7));
    const row: Record<string, string | number> = { shape: form === 'im2col' ? `${s.name} (im2col)` : s.name };
    candidates.forEach((c, i) => (row[c.label] = Number(((2 * macs) / median(perRound.map((t) => t[i]!)) / 1e9).toFixed(2))));
    rows.push(row);
    if (!json) console.error(JSON.stringify(row));
  }
}
gpu.destroy();
console.log(json ? JSON.stringify({ adapter: gpu.facts.description, rows }, null, 2) : formatTable(rows));
