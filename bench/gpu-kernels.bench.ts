/**
 * GOP/s of the convolution kernels on the adapter at hand, next to its
 * measured peaks, side by side in one run: for each shape, int8 on each dot
 * path (dot4I8Packed where the adapter has it, unpacked vec4<i32>), 4-bit and
 * 2-bit weights on the chosen path, and our float32 kernel. Shapes: the
 * convolutions of a MobileNetV2 at 224x224 (the 3x3 stem, 1x1 expansions and
 * projections, 3x3 depthwise) and of the zoo models. A MAC counts 2 ops.
 *
 *   npx tsx bench/gpu-kernels.bench.ts [--quick] [--only NAME-PART] [--json]
 *
 * Each number is the median of timed repeats (timestamp queries around the
 * dispatch where the adapter has them, else wall time to onSubmittedWorkDone)
 * after a warm-up. The layer's data is random: times do not depend on values.
 *
 * The last columns judge each shape in the run itself: the chosen path's peak
 * kernel (shaders/peak.wgsl at its best chain count) timed in the same turns as
 * the shape's kernels, the form the engine runs (im2col for a stem with few
 * channels) as a percentage of it, int8 against f32, and 4-bit against 8-bit weights.
 */
import { formatAdapterFacts } from '../src/gpu/adapter-info.js';
import { BufferTracker } from '../src/gpu/buffer-tracker.js';
import { requestGpu } from '../src/gpu/device.js';
import { convKernelPlan, igemmKernel, planConv } from '../src/gpu/ops/conv.js';
import { depthwiseKernel, planDepthwise } from '../src/gpu/ops/depthwise.js';
import { im2colConv } from '../src/gpu/ops/im2col.js';
import { planQuantize, quantizeKernel } from '../src/gpu/ops/quantize.js';
import { floatConvKernel, planFloatConv } from '../src/gpu/ops/float-conv.js';
import { chooseKernels } from '../src/gpu/kernel-choice.js';
import { measurePeaks, peakKernel, peakKernelPlan } from '../src/gpu/peaks.js';
import { formatTable } from './table.js';
import { timeKernels, type TimedKernel } from '../src/gpu/time-kernels.js';
import { PipelineCache, type KernelSource, type KernelVariant } from '../src/gpu/pipeline-cache.js';
import type { ConvLayer } from '../src/ir/layers.js';
import { seededRandom, syntheticActivation, syntheticConv } from '../src/gpu/synthetic-layer.js';
import { MBV2, ZOO, type Shape } from './conv-shapes.js';
import type { QMatmulLayer } from '../src/quant/quantized-graph.js';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const gpu = await requestGpu();
const device = gpu.device;
const cache = new PipelineCache(device);
const tracker = new BufferTracker(device);
const rnd = seededRandom(11);
const REPEATS = quick ? 3 : 7;
/** --tune rows,wgx,wgy: a tile to try instead of the planner's. */
const tuneAt = process.argv.indexOf('--tune');
const TUNE = tuneAt < 0 ? {} : (([rows, workgroupX, workgroupY]) => ({ rows: rows!, workgroupX: workgroupX!, workgroupY: workgroupY! }))(process.argv[tuneAt + 1]!.split(',').map(Number));

const act = syntheticActivation;
const layer = (s: Shape, wBits: number): QMatmulLayer => syntheticConv(s, wBits);

const peaks = await measurePeaks(device, cache, gpu.facts, quick ? { invocations: 64 * 64 } : {});
const dotPaths: Array<{ label: string; dot4: boolean; tiled?: boolean }> = [...(gpu.facts.dot4I8Packed ? [{ label: 'dot4I8Packed', dot4: true }] : []), { label: 'vec4<i32>', dot4: false }];
// The engine's own choice (what sessions use): the igemm variants timed on a reference layer.
const choice = await chooseKernels(device, cache, gpu.facts);
const chosen = choice.dot4;

// The tile the engine's sessions use (src/runtime/session.ts): the chosen core, rows and workgroup, fitted to the layer.
const engineTile = choice.tiled ? { tiled: true, rows: choice.rows, workgroupX: choice.workgroupX, workgroupY: choice.workgroupY } : { rows: choice.rows, fitWorkgroup: true };
const rows: Array<Record<string, string | number>> = [];
const only = process.argv.indexOf('--only');
const selected = (quick ? [...MBV2.slice(1, 3), MBV2[6]!, ...ZOO.slice(0, 1)] : [...MBV2, ...ZOO]).filter((s) => only < 0 || s.name.includes(process.argv[only + 1]!));
for (const s of selected) {
  const n = s.batch ?? 1;
  const inShape = [n, s.c, s.hw, s.hw];
  const oh = Math.floor((s.hw + 2 * ((s.k - 1) >> 1) - s.k) / s.stride) + 1;
  const macs = n * s.m * oh * oh * (s.depthwise ? 1 : s.c) * s.k * s.k;
  const gops = (seconds: number): number => (2 * macs) / seconds / 1e9;
  const row: Record<string, string | number> = { shape: s.name, MACs: macs };
  const intBytes = (c: number, hw: number): number => n * hw * hw * Math.ceil(c / 4) * 4;
  const candidates: TimedKernel[] = [];
  for (const bits of [8, 4, 2]) {
    const q = layer(s, bits);
    // The depthwise kernel has one path: it is timed once per weight width.
    const paths = s.depthwise ? dotPaths.slice(0, 1) : bits === 8 ? [...dotPaths, { label: `${chosen ? 'dot4I8Packed' : 'vec4<i32>'} tiled`, dot4: chosen, tiled: true }] : dotPaths.filter((p) => p.dot4 === chosen);
    for (const path of paths) {
      const label = `w${bits}a8 ${s.depthwise ? 'depthwise' : path.label}`;
      if (s.depthwise) {
        const plan = planDepthwise(q, act('affine'), act('affine'), { n, c: s.c, h: s.hw, w: s.hw }, 65535);
        candidates.push({ label, kernel: depthwiseKernel as unknown as KernelSource<KernelVariant>, plan, inputBytes: intBytes(s.c, s.hw), outputBytes: intBytes(s.m, oh) });
      } else {
        const cp = planConv(q, act('affine'), act('affine'), inShape, gpu.facts, { dot4: path.dot4, ...(path.tiled ? (choice.tiled ? engineTile : { tiled: true, rows: 4, workgroupX: 8, workgroupY: 8 }) : { rows: choice.tiled ? 4 : choice.rows, fitWorkgroup: tuneAt < 0, ...TUNE }) });
        candidates.push({ label, kernel: igemmKernel as unknown as KernelSource<KernelVariant>, plan: convKernelPlan(cp, 'x', 'y'), inputBytes: intBytes(s.c, s.hw), outputBytes: intBytes(s.m, oh) });
      }
    }
  }
  // A first layer with few input channels runs as a 1x1 reduction over an im2col copy that the
  // input's quantize step writes (src/gpu/ops/im2col.ts): its conv, and the quantize step with
  // and without the window (what the copy costs beyond the quantize any int8 network runs).
  const im = s.depthwise ? undefined : im2colConv(layer(s, 8), inShape);
  const im2colAt = candidates.length;
  if (im !== undefined) {
    const cp = planConv(im.layer, act('affine'), act('affine'), im.shape, gpu.facts, { dot4: chosen, ...engineTile });
    const [, k, h2, w2] = im.shape;
    candidates.push({ label: 'w8a8 im2col', kernel: igemmKernel as unknown as KernelSource<KernelVariant>, plan: convKernelPlan(cp, 'x', 'y'), inputBytes: n * h2 * w2 * Math.ceil(k / 4) * 4, outputBytes: intBytes(s.m, oh) });
    const a = { n, c: s.c, h: s.hw, w: s.hw };
    for (const [label, window] of [['quantize', undefined], ['quantize+im2col', im.window]] as const) {
      const plan = planQuantize({ real: 'x', lanes: 'y' }, act('affine'), a, 65535, window);
      candidates.push({ label, kernel: quantizeKernel as unknown as KernelSource<KernelVariant>, plan, inputBytes: n * s.c * s.hw * s.hw * 4, outputBytes: window === undefined ? intBytes(s.c, s.hw) : n * h2 * w2 * Math.ceil(k / 4) * 4 });
    }
  }
  const conv = layer(s, 8).layer as ConvLayer;
  const w = { shape: [s.m, s.depthwise ? 1 : s.c, s.k, s.k], data: Float32Array.from({ length: s.m * (s.depthwise ? 1 : s.c) * s.k * s.k }, () => rnd() - 0.5) };
  const fplan = planFloatConv(conv, inShape, w, undefined, 65535);
  candidates.push({ label: 'f32', kernel: floatConvKernel as unknown as KernelSource<KernelVariant>, plan: fplan, inputBytes: n * s.c * s.hw * s.hw * 4, outputBytes: n * s.m * oh * oh * 4 });
  // The chosen path's peak, timed in the same turns as the kernels: a slow spell moves both.
  const peak = chosen ? peakKernelPlan(2, true, peaks.chains.dot4 ?? 8, 64 * 256, 64) : peakKernelPlan(1, false, peaks.chains.i32, 64 * 256, 64);
  candidates.push({ label: 'peak', kernel: peakKernel as unknown as KernelSource<KernelVariant>, plan: peak.plan, inputBytes: peak.srcBytes, outputBytes: peak.dstBytes });
  const seconds = await timeKernels(device, cache, gpu.facts, candidates, REPEATS);
  const rate: Record<string, number> = {};
  candidates.forEach((c, i) => {
    rate[c.label] = c.label === 'peak' ? peak.ops / seconds[i]! / 1e9 : gops(seconds[i]!);
    if (!c.label.startsWith('quantize') && c.label !== 'peak') row[c.label] = Number(rate[c.label]!.toFixed(2));
  });
  if (im !== undefined) {
    const [conv1x1, plain, windowed] = seconds.slice(im2colAt, im2colAt + 3) as [number, number, number];
    // A difference of two medians: noise can make it negative; the copy costs at least nothing.
    rate['w8a8 im2col + extra quantize'] = gops(conv1x1 + Math.max(0, windowed - plain));
    row['w8a8 im2col + extra quantize'] = Number(rate['w8a8 im2col + extra quantize']!.toFixed(2));
  }
  // The criteria of issue 6, worked out in the run: the form the engine runs against its path's
  // peak, int8 against f32 (the im2col form with what its quantize step costs beyond the plain one),
  // and 4-bit against 8-bit weights on the chosen path.
  const path = s.depthwise ? 'depthwise' : chosen ? 'dot4I8Packed' : 'vec4<i32>';
  const engine = im !== undefined ? rate['w8a8 im2col']! : rate[`w8a8 ${path}${choice.tiled && !s.depthwise ? ' tiled' : ''}`]!;
  row[`${chosen ? 'dot4' : 'i32'} peak`] = Number(rate['peak']!.toFixed(2));
  // The depthwise kernel has no dot path of its own (one MAC per weight and position, memory-bound): no peak to judge it by.
  row['% of peak'] = s.depthwise ? '' : `${Math.round((100 * engine) / rate['peak']!)}%`;
  row['int8 / f32'] = Number(((im !== undefined ? rate['w8a8 im2col + extra quantize']! : engine) / rate['f32']!).toFixed(2));
  row['w4 / w8'] = Number((rate[`w4a8 ${path}`]! / rate[`w8a8 ${path}`]!).toFixed(2));
  rows.push(row);
  if (!json) console.error(JSON.stringify(row));
}
tracker.destroyAll();
gpu.destroy();
if (json) console.log(JSON.stringify({ adapter: gpu.facts, peaks, choice, rows }, null, 2));
else {
  console.log(formatAdapterFacts(gpu.facts));
  console.log(`peaks: f32 FMA ${peaks.f32Gflops.toFixed(2)} GFLOP/s, vec4<i32> multiply-add ${peaks.i32Gops.toFixed(2)} GOP/s, dot4I8Packed ${peaks.dot4Gops?.toFixed(2) ?? 'n/a'} GOP/s, unpacked dot ${peaks.unpackedDotGops.toFixed(2)} GOP/s, copy ${peaks.bandwidthGBs.toFixed(2)} GB/s`);
  console.log(`the engine's choice (GOP/s on its reference layer): ${Object.entries(choice.measured).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  console.log(`chosen: ${chosen ? 'dot4I8Packed' : 'vec4<i32>'}, ${choice.tiled ? 'tiled' : 'direct'} core, ${choice.rows} rows per invocation, workgroup ${choice.workgroupX}x${choice.workgroupY}`);
  console.log(formatTable(rows));
}
