import { runGraph } from '../src/cpu/float-executor.js';
import type { Tensor } from '../src/cpu/tensor.js';
import type { Graph } from '../src/ir/graph.js';
import { formatShape } from '../src/ir/shape.js';
import { summarize } from '../src/ir/summary.js';
import { readNpy } from '../src/io/npy.js';
import { loadModel } from '../src/model/load-model.js';

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
