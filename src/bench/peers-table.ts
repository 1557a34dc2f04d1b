/**
 * The peers bench's results as Markdown: per model and batch, quantgpu's
 * medians and each peer's as a ratio to them (peer ms / quantgpu ms: above 1,
 * quantgpu is faster), with quantgpu w8a8's roofline (the floor of its layers
 * at the adapter's measured peaks, its GPU time, and the layer furthest above
 * its floor) so that where a peer is faster the row says where the time goes;
 * then the load and first-run times, and the output checks.
 */
import type { EngineName, PeersDoc, PeersRow } from './peers.js';

const PEERS: readonly EngineName[] = ['ort-webgpu', 'ort-webgpu-qdq', 'ort-wasm', 'tfjs-webgpu', 'tfjs-wasm'];

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (peer: number, ours: number | undefined): string => (ours === undefined ? '-' : `${(peer / ours).toFixed(2)}x`);

/** A Markdown table: the first `textLeft` columns and the last `textRight` ones are text (left-aligned), the rest numbers. */
function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, textLeft: number, textRight: number): string[] {
  const align = head.map((_, i) => (i < textLeft || i >= head.length - textRight ? '---' : '---:'));
  return [`| ${head.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/**
 * Why quantgpu w8a8 takes the time it does, from its profile (its own runs, timestamps on): the
 * layers' GPU time against their floor, the rest of the wall time (upload, submit, readback), and
 * the layer furthest above its floor.
 */
function why(row: PeersRow | undefined): string {
  const r = row?.roofline;
  if (r === undefined) return '-';
  const gpu = r.gpuMs === null ? `wall ${ms(r.wallMs)} ms, no timestamps` : `GPU ${ms(r.gpuMs)} ms = ${(r.gpuMs / r.floorMs).toFixed(1)}x floor, rest of wall ${ms(Math.max(0, r.wallMs - r.gpuMs))} ms`;
  const w = r.worst[0];
  return w === undefined ? gpu : `${gpu}; worst ${w.op} ${w.layer} ${ms(w.ms)} ms vs floor ${ms(w.floorMs)}`;
}

export function peersMarkdown(doc: PeersDoc): string {
  const models = [...new Set(doc.rows.map((r) => r.model))];
  const find = (model: string, engine: EngineName): PeersRow | undefined => doc.rows.find((r) => r.model === model && r.engine === engine);
  const at = (row: PeersRow | undefined, batch: number): number | undefined => row?.batches.find((b) => b.batch === batch)?.medianMs;
  const peers = PEERS.filter((p) => doc.rows.some((r) => r.engine === p));
  const withSearched = doc.rows.some((r) => r.engine === 'quantgpu-searched');
  const speed: string[][] = [];
  for (const model of models) {
    for (const batch of doc.options.batches) {
      const w8 = at(find(model, 'quantgpu-w8a8'), batch);
      const fl = at(find(model, 'quantgpu-float'), batch);
      const w4 = at(find(model, 'quantgpu-w4a8'), batch);
      const searched = find(model, 'quantgpu-searched');
      const sr = at(searched, batch);
      const cells = peers.map((p) => {
        const t = at(find(model, p), batch);
        return t === undefined ? '-' : `${ms(t)} (${ratio(t, w8)} / ${ratio(t, fl)})`;
      });
      const roof = find(model, 'quantgpu-w8a8')?.roofline;
      speed.push([model, String(batch), w8 === undefined ? '-' : ms(w8), fl === undefined ? '-' : ms(fl), w4 === undefined ? '-' : ms(w4), ...(withSearched ? [sr === undefined ? '-' : ms(sr)] : []), ...cells, batch === doc.options.batches[0] && roof ? ms(roof.floorMs) : '', batch === doc.options.batches[0] ? why(find(model, 'quantgpu-w8a8')) : '']);
    }
  }
  const loads = doc.rows.map((r) => [r.model, r.config === undefined ? r.engine : `${r.engine} (${r.config})`, r.runtime, ms(r.loadMs), ...doc.options.batches.map((b) => {
    const t = r.batches.find((x) => x.batch === b)?.firstMs;
    return t === undefined ? '-' : ms(t);
  }), r.check ? `${r.check.maxAbsDiff.toPrecision(3)} vs ${r.check.against} (max abs ${r.check.refMaxAbs.toPrecision(3)})` : '(reference)']);
  return [
    `Peers bench, ${doc.date.slice(0, 16).replace('T', ' ')} UTC; adapter ${doc.adapter}; ${doc.browser}; median of ${doc.options.repeats} runs after ${doc.options.warmup} warm-up; ${doc.machine.cpus} CPUs, load average ${doc.machine.loadBefore[0]!.toFixed(1)} before, ${doc.machine.loadAfter[0]!.toFixed(1)} after.`,
    '',
    'Median ms per inference (input on the CPU to output on the CPU). Peer cells: ms (peer / quantgpu w8a8, peer / quantgpu float); above 1x, quantgpu is faster. Floor: the sum of the w8a8 layers\' floors at the measured peaks (batch ' + doc.options.batches[0] + ').' + (withSearched ? ' quantgpu searched: the config a per-layer bitwidth search chose (bench/search.bench.ts; its label in the table below).' : ''),
    '',
    ...table(['model', 'batch', 'quantgpu w8a8', 'quantgpu float', 'quantgpu w4a8', ...(withSearched ? ['quantgpu searched'] : []), ...peers, 'w8a8 floor ms', 'where w8a8 time goes'], speed, 2, 1),
    '',
    'Load (fetch and session), first run per batch, and the output check on the first batch (max |difference|: floats against ORT wasm float32, quantized against our golden model of the same config).',
    '',
    ...table(['model', 'engine', 'runtime', 'load ms', ...doc.options.batches.map((b) => `first ms (batch ${b})`), 'output check'], loads, 3, 1),
    ...(doc.failures.length === 0 ? [] : ['', 'Could not run:', '', ...doc.failures.map((f) => `- ${f.model}, ${f.engine}: ${f.error}`)]),
  ].join('\n');
}
