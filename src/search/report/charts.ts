import type { EChartsOption } from 'echarts';
import { paretoFront } from '../pareto.js';
import type { ResultsDoc } from '../results.js';
import type { SessionProfile } from '../../runtime/profile.js';

/**
 * The report's charts as data: each an ECharts option built from a results
 * file alone (pure functions, no drawing), so the HTML report and the demo
 * page draw the same charts from the same file.
 */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly option: EChartsOption;
  /** Pixel height the chart wants (heat maps grow with their rows). */
  readonly height: number;
}

type Axis = 'size' | 'bops' | 'gpu';
const AXES: Record<Axis, { name: string; of: (p: Point) => number | undefined }> = {
  size: { name: 'size (% of int8 everywhere)', of: (p) => 100 * p.sizeVsInt8 },
  bops: { name: 'bit-operations (% of int8 everywhere)', of: (p) => 100 * p.bopsVsInt8 },
  gpu: { name: 'GPU time (ms per image)', of: (p) => p.gpuMsPerImage },
};

interface Point {
  label: string;
  accuracy: number;
  sizeVsInt8: number;
  bopsVsInt8: number;
  gpuMsPerImage?: number;
  chosen?: boolean;
}

/**
 * The points a file's trade-off charts plot: a sweep's grid (accuracy), or
 * every candidate a search evaluated with its choice marked. A search's
 * candidates were measured on the validation half and judged on the
 * confirmation half, whose float accuracies differ: they are plotted as
 * the change against float on their own images (`relative`).
 */
function points(doc: ResultsDoc): { points: Point[]; split: string; relative: boolean } {
  if (doc.points) return { points: doc.points.map((p) => ({ ...p })), split: doc.points[0]?.split ?? 'test', relative: false };
  if (doc.search) {
    const c = doc.search.chosen;
    const floatOf = (judged: boolean) => (judged && doc.floatAccuracy.confirmation !== undefined ? doc.floatAccuracy.confirmation : doc.floatAccuracy.validation ?? 0);
    const trace = doc.search.trace.map((t) => ({ label: `${t.label} (${t.stage}, ${t.backend})`, accuracy: t.accuracy - floatOf(t.stage === 'decide'), sizeVsInt8: t.sizeVsInt8, bopsVsInt8: t.bopsVsInt8 }));
    const chosen = { label: `chosen: ${c.label}`, accuracy: c.validation.accuracy - floatOf(true), sizeVsInt8: c.validation.sizeVsInt8, bopsVsInt8: c.validation.bopsVsInt8, chosen: true };
    return { points: [...trace, chosen], split: doc.sets.confirmation ? 'validation and confirmation' : 'validation', relative: true };
  }
  return { points: [], split: '', relative: false };
}

/** Accuracy against one cost, every point labelled on hover, the Pareto frontier drawn, float accuracy (and a search's bound) as lines. */
export function tradeoffChart(doc: ResultsDoc, axis: Axis): ChartSpec | undefined {
  const { points: all, split, relative } = points(doc);
  const ax = AXES[axis];
  const pts = all.filter((p) => ax.of(p) !== undefined);
  if (pts.length === 0) return undefined;
  const xy = pts.map((p) => ({ x: ax.of(p)!, y: 100 * p.accuracy }));
  const front = paretoFront(xy.map((p) => ({ accuracy: p.y, cost: p.x }))).map((i) => [xy[i]!.x, xy[i]!.y]);
  const float = relative ? 0 : doc.floatAccuracy.test;
  const lines: Array<{ name: string; yAxis: number }> = [];
  if (float !== undefined) lines.push({ name: 'float', yAxis: 100 * float });
  if (doc.search && float !== undefined) lines.push({ name: `bound (float - ${100 * doc.search.maxLoss} point)`, yAxis: 100 * (float - doc.search.maxLoss) });
  // Open on the band that matters (a few points under float and the bound); the slider on the right zooms out to every point.
  const ys = xy.map((p) => p.y);
  const top = Math.ceil(Math.max(...ys, ...lines.map((l) => l.yAxis)) + 0.5);
  const floor = Math.floor(Math.min(...ys));
  const focus = Math.max(floor, Math.floor(Math.min(...lines.map((l) => l.yAxis), top) - 6));
  return {
    id: `tradeoff-${axis}`,
    title: relative ? `Accuracy against float (points, ${split} images) against ${ax.name}` : `Accuracy (${split} split) against ${ax.name}`,
    height: 420,
    option: {
      tooltip: { trigger: 'item', formatter: '{b}<br/>x = {c}' },
      legend: { top: 0 },
      grid: { left: 64, right: 72, top: 40, bottom: 56 },
      xAxis: { type: 'value', name: ax.name, nameLocation: 'middle', nameGap: 32, scale: true },
      // The zoom's edges are rarely round numbers: no label there.
      yAxis: { type: 'value', name: relative ? 'top-1 change against float (points)' : 'top-1 accuracy (%)', nameLocation: 'middle', nameGap: 44, scale: true, axisLabel: { showMinLabel: false, showMaxLabel: false } },
      dataZoom: [
        { type: 'inside', yAxisIndex: 0, filterMode: 'none', startValue: focus, endValue: top },
        { type: 'slider', yAxisIndex: 0, filterMode: 'none', startValue: focus, endValue: top, right: 12, width: 18 },
      ],
      series: [
        {
          name: 'configs',
          type: 'scatter',
          symbolSize: 8,
          data: pts.map((p, i) => ({ name: p.label, value: [round(xy[i]!.x), round(xy[i]!.y)], ...(p.chosen ? { symbolSize: 18, itemStyle: { color: '#d62728' } } : {}) })),
          markLine: { symbol: 'none', label: { formatter: '{b}', position: 'insideStartTop' }, lineStyle: { type: 'dashed' }, data: lines },
        },
        { name: 'Pareto frontier', type: 'line', step: 'end', symbol: 'none', data: front.map(([x, y]) => [round(x!), round(y!)]) },
      ],
    },
  };
}

/** The chosen config's weight and activation bits, layer by layer in network order. */
export function chosenBitsChart(doc: ResultsDoc): ChartSpec | undefined {
  const c = doc.search?.chosen;
  if (!c || !doc.space) return undefined;
  const base = c.config.default === 'float' ? undefined : c.config.default;
  const setting = (layer: string) => {
    const o = c.config.layers?.[layer];
    return o === 'float' ? undefined : { ...base, ...o };
  };
  const layers = [...new Set([...doc.space.weightLayers, ...doc.space.activationLayers])];
  return layerBars('chosen-bits', `Bits per layer of the chosen config (${c.label})`, layers, { name: 'bits', min: 0, max: 8, interval: 1 }, [
    { name: 'weight bits', data: layers.map((l) => (doc.space!.weightLayers.includes(l) ? setting(l)?.weightBits ?? 32 : null)) },
    { name: 'activation bits', data: layers.map((l) => (doc.space!.activationLayers.includes(l) ? setting(l)?.activationBits ?? 32 : null)) },
  ]);
}

/** Grouped bars, one group per layer in network order, layer names slanted under them. */
function layerBars(id: string, title: string, layers: readonly string[], yAxis: { name: string; min?: number; max?: number; interval?: number }, series: ReadonlyArray<{ name: string; data: Array<number | null> }>): ChartSpec {
  return {
    id,
    title,
    height: 380,
    option: {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 40, bottom: 140 },
      xAxis: { type: 'category', data: layers.map(shortName), axisLabel: { rotate: 60, fontSize: 10 } },
      yAxis: { type: 'value', ...yAxis },
      series: series.map((s) => ({ type: 'bar' as const, ...s })),
    },
  };
}

/** The sensitivity table as a heat map: each layer's accuracy change (points) with its weights or activations alone at each bitwidth. */
export function sensitivityChart(doc: ResultsDoc, kind: 'weights' | 'activations'): ChartSpec | undefined {
  const cells = doc.sensitivity?.cells.filter((c) => c.kind === kind) ?? [];
  if (cells.length === 0) return undefined;
  const layers = [...new Set(cells.map((c) => c.layer))];
  const bits = [...new Set(cells.map((c) => c.bits))].sort((a, b) => b - a);
  const data = cells.map((c) => [bits.indexOf(c.bits), layers.indexOf(c.layer), round(100 * c.accuracyDelta)]);
  const worst = Math.min(-0.5, ...data.map((d) => d[2]!));
  return {
    id: `sensitivity-${kind}`,
    title: `Sensitivity of the ${kind}: accuracy change (points) with one layer's ${kind} alone at b bits, the rest at 8`,
    height: 120 + 18 * layers.length,
    option: {
      tooltip: { position: 'top', formatter: '{c}' },
      grid: { left: 220, right: 96, top: 24, bottom: 56 },
      xAxis: { type: 'category', name: 'bits', nameLocation: 'middle', nameGap: 28, data: bits.map(String), splitArea: { show: true } },
      yAxis: { type: 'category', data: layers.map(shortName), inverse: true, axisLabel: { fontSize: 10 } },
      visualMap: { min: worst, max: 0, calculable: true, orient: 'vertical', right: 8, top: 'middle', inRange: { color: ['#b2182b', '#f4a582', '#f7f7f7'] } },
      series: [{ name: 'accuracy change (points)', type: 'heatmap', data, label: { show: layers.length <= 40, fontSize: 9 } }],
    },
  };
}

/** Each layer's GPU time (ms per image) at each weight lane width, from profiles. */
export function gpuTimesChart(doc: ResultsDoc): ChartSpec | undefined {
  const t = doc.sensitivity?.gpuMs;
  if (!t) return undefined;
  const lanes = ([8, 4, 2] as const).filter((l) => t[l]);
  const layers = [...new Set(lanes.flatMap((l) => Object.keys(t[l]!)))];
  return layerBars(
    'gpu-times',
    `GPU time per layer by weight bits (ms per image${doc.environment.adapter ? `, ${doc.environment.adapter}` : ''})`,
    layers,
    { name: 'ms per image' },
    lanes.map((l) => ({ name: `${l}-bit weight lanes`, data: layers.map((n) => round(t[l]![n] ?? 0, 4)) })),
  );
}

/** One profile's GPU time per layer (ms per image, from timestamp queries), in network order: the page's chart of a run. */
export function profileChart(p: SessionProfile, title = `GPU time per layer (ms per image, median of ${p.repeats}, batch ${p.batch}, ${p.adapter})`): ChartSpec | undefined {
  if (!p.timestamps) return undefined;
  const layers = p.layers.filter((l) => l.medianMs !== null);
  return layerBars('profile', title, layers.map((l) => l.layer), { name: 'ms per image' }, [
    { name: 'GPU time', data: layers.map((l) => round(l.medianMs! / p.batch, 4)) },
  ]);
}

/** Every chart a file can give, in the report's order. */
export function reportCharts(doc: ResultsDoc): ChartSpec[] {
  return [
    tradeoffChart(doc, 'size'),
    tradeoffChart(doc, 'bops'),
    tradeoffChart(doc, 'gpu'),
    chosenBitsChart(doc),
    sensitivityChart(doc, 'weights'),
    sensitivityChart(doc, 'activations'),
    gpuTimesChart(doc),
  ].filter((c): c is ChartSpec => c !== undefined);
}

/** `/features/features.3/block/block.1/Conv` -> `features.3/block.1/Conv`: the parts that tell layers apart. */
export function shortName(layer: string): string {
  const parts = layer.split('/').filter(Boolean);
  const kept = parts.filter((p, i) => i === parts.length - 1 || !parts.slice(i + 1).some((q) => q.startsWith(p)));
  return kept.join('/');
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
