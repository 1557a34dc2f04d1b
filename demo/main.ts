import { runGraph } from '../src/cpu/float-executor.js';
import type { Tensor } from '../src/cpu/tensor.js';
import type { Graph } from '../src/ir/graph.js';
import { formatShape } from '../src/ir/shape.js';
import { summarize } from '../src/ir/summary.js';
import { readNpy } from '../src/io/npy.js';
import { loadModel } from '../src/model/load-model.js';
import { runQuantized } from '../src/cpu/golden/golden-executor.js';
import { argmaxRows } from '../src/eval/evaluate.js';
import { PRESETS } from '../src/quant/config.js';
import { costReport } from '../src/quant/cost.js';
import { calibrate, quantize } from '../src/quant/pipeline.js';
import { requestGpu, type Gpu } from '../src/gpu/device.js';
import { formatProfile } from '../src/runtime/profile.js';
import { createSession } from '../src/runtime/session.js';

const $ = (id: string): HTMLElement => document.getElementById(id)!;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function showSummary(graph: Graph): void {
  const s = summarize(graph);
  const rows = s.layers
    .map((l) => `<tr><td>${l.name}</td><td>${l.activation && l.op !== 'activation' ? `${l.op}+${l.activation}` : l.op}</td><td>${l.outputShapes.map(formatShape).join(' ')}</td><td class="num">${l.parameters}</td><td class="num">${l.macs ?? '?'}</td></tr>`)
    .join('');
  $('summary').innerHTML =
    `<table><tr><th>layer</th><th>op</th><th>output</th><th class="num">params</th><th class="num">MACs</th></tr>${rows}</table>` +
    `<p>${s.totals.layers} layers, ${s.totals.parameters} parameters, ${s.totals.macs ?? '?'} MACs per image</p>`;
}

function showPredictions(x: Tensor, logits: Tensor, labels: number[], classes: string[], mean: number, std: number): void {
  const [n, , h, w] = x.shape as [number, number, number, number];
  const k = logits.shape[1]!;
  $('images').innerHTML = '';
  for (let i = 0; i < n; i++) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(w, h);
    for (let p = 0; p < h * w; p++) {
      const v = Math.round(Math.min(255, Math.max(0, (x.data[i * h * w + p]! * std + mean) * 255)));
      img.data.set([v, v, v, 255], p * 4);
    }
    ctx.putImageData(img, 0, 0);
    const row = Array.from(logits.data.subarray(i * k, (i + 1) * k));
    const best = row.indexOf(Math.max(...row));
    const fig = document.createElement('figure');
    fig.append(canvas);
    const cap = document.createElement('figcaption');
    cap.className = best === labels[i] ? 'ok' : 'bad';
    cap.textContent = `${classes[best] ?? best} (label ${classes[labels[i]!] ?? labels[i]})`;
    fig.append(cap);
    $('images').append(fig);
  }
}

/** Calibrate on the bundled images, quantize with a few presets, and run the integer golden model. */
async function showQuantized(graph: Graph, x: Tensor, floatTop: Int32Array, classes: string[]): Promise<void> {
  const stats = await calibrate(graph, [x]);
  const rows: string[] = [];
  for (const name of ['w8a8', 'w8a8-pow2', 'w4a8', 'w4a4', 'w2a8']) {
    const q = quantize(graph, stats, PRESETS[name]!);
    const t0 = performance.now();
    const r = runQuantized(q, { [graph.inputs[0]!.name]: x });
    const ms = performance.now() - t0;
    const top = argmaxRows(Object.values(r.outputs)[0]!);
    const cost = costReport(q);
    const same = top.filter((p, i) => p === floatTop[i]).length;
    rows.push(
      `<tr><td>${name}</td><td>${Array.from(top, (p) => classes[p] ?? p).join(', ')}</td><td class="num">${same}/${top.length}</td>` +
        `<td class="num">${(cost.sizeBytes / 1024).toFixed(1)} KiB</td><td class="num">${((100 * cost.sizeBytes) / cost.float32Bytes).toFixed(1)}%</td>` +
        `<td class="num">${((100 * cost.bops) / cost.int8Bops).toFixed(0)}%</td><td class="num">${ms.toFixed(0)} ms</td></tr>`,
    );
  }
  $('quantized').innerHTML =
    '<table><tr><th>config</th><th>predictions (integer golden model)</th><th class="num">agree with float</th><th class="num">size</th><th class="num">of float32</th><th class="num">bit-ops of int8</th><th class="num">time</th></tr>' +
    rows.join('') +
    '</table><p>Calibrated on these four images only: a real calibration uses hundreds (<code>quantgpu calibrate</code>).</p>';
}

/** The same configs on the GPU: integer kernels through WebGPU, checked against the golden model, with a per-layer profile. */
async function showGpu(graph: Graph, x: Tensor, classes: string[]): Promise<void> {
  const stats = await calibrate(graph, [x]);
  let gpu: Gpu;
  try {
    gpu = await requestGpu();
  } catch (err) {
    $('gpu').textContent = `${(err as Error).name}: ${(err as Error).message}`;
    return;
  }
  const f = gpu.facts;
  const rows: string[] = [];
  let profile = '';
  try {
    for (const name of ['w8a8', 'w4a8']) {
      const q = quantize(graph, stats, PRESETS[name]!);
      const session = await createSession(q, { gpu });
      try {
        const r = await session.run(x);
        const golden = runQuantized(q, { [graph.inputs[0]!.name]: x });
        const out = Object.keys(golden.integers)[0]!;
        const exact = golden.integers[out]!.every((v, i) => v === r.integers[out]![i]);
        const top = argmaxRows(r.outputs[out]!);
        const p = await session.profile(x, { repeats: 5 });
        rows.push(
          `<tr><td>${name}</td><td>${Array.from(top, (c) => classes[c] ?? c).join(', ')}</td><td class="${exact ? 'ok' : 'bad'}">${exact ? 'bit-exact' : 'DIFFERS'}</td>` +
            `<td class="num">${p.wallMs.toFixed(1)} ms</td><td class="num">${p.gpuMs === null ? '-' : `${p.gpuMs.toFixed(1)} ms`}</td></tr>`,
        );
        if (name === 'w4a8') profile = `<h3>w4a8, per layer (timestamp queries, median of 5)</h3><pre>${formatProfile(p)}</pre>`;
      } finally {
        session.dispose();
      }
    }
  } finally {
    gpu.destroy();
  }
  $('gpu').innerHTML =
    `<p>Adapter: ${[f.vendor, f.architecture, f.description].filter((s) => s !== '').join(' ') || 'unnamed'}; dot4I8Packed: ${f.dot4I8Packed}; timestamp-query: ${f.timestampQuery}</p>` +
    '<table><tr><th>config</th><th>predictions (GPU)</th><th>against the golden model</th><th class="num">wall per batch</th><th class="num">GPU per batch</th></tr>' +
    rows.join('') +
    `</table>${profile}`;
}

async function show(bytes: Uint8Array, name: string): Promise<void> {
  const t0 = performance.now();
  const graph = loadModel(bytes);
  showSummary(graph);
  $('status').textContent = `${name}: imported in ${(performance.now() - t0).toFixed(0)} ms`;
}

async function start(): Promise<void> {
  const [model, input, labels, card] = await Promise.all([
    fetchBytes('/models/fashion-vgg.onnx'),
    fetchBytes('/models/fashion-vgg.input.npy'),
    fetch('/models/fashion-vgg.labels.json').then((r) => r.json() as Promise<number[]>),
    fetch('/models/fashion-vgg.json').then((r) => r.json() as Promise<{ classes: string[]; input: { mean: number[]; std: number[] } }>),
  ]);
  await show(model, 'fashion-vgg');
  const graph = loadModel(model);
  const x = readNpy(input);
  const t0 = performance.now();
  const out = Object.values(runGraph(graph, { [graph.inputs[0]!.name]: x }))[0]!;
  $('status').textContent += `; ${x.shape[0]} images in ${(performance.now() - t0).toFixed(0)} ms on the CPU float executor`;
  showPredictions(x, out, labels, card.classes, card.input.mean[0]!, card.input.std[0]!);
  await showQuantized(graph, x, argmaxRows(out), card.classes);
  await showGpu(graph, x, card.classes);
  ($('file') as HTMLInputElement).addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    try {
      await show(new Uint8Array(await f.arrayBuffer()), f.name);
    } catch (err) {
      $('status').textContent = `${(err as Error).name}: ${(err as Error).message}`;
    }
  });
}

start().catch((err: Error) => {
  $('status').textContent = `${err.name}: ${err.message}`;
});
