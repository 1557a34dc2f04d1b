import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ResultsDoc } from '../results.js';
import { reportCharts, shortName } from './charts.js';

/** ECharts' own minified build, inlined so that a report opens offline. */
function echartsSource(): string {
  return readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** JSON for a <script> element: no `</script>` or `<!--` can end it early. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');
const pct = (v: number | undefined): string => (v === undefined ? '' : `${(100 * v).toFixed(2)}%`);

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function summary(doc: ResultsDoc): string {
  const rows: string[][] = [
    ['model', doc.model],
    ['dataset', doc.dataset],
    ['calibration images', `${doc.sets.calibration.count} (training split from ${doc.sets.calibration.start})`],
  ];
  if (doc.sets.validation) rows.push(['validation images', `${doc.sets.validation.count} (training split from ${doc.sets.validation.start})`]);
  if (doc.sets.confirmation) rows.push(['confirmation images', `${doc.sets.confirmation.count} (training split from ${doc.sets.confirmation.start}; the decider judges here)`]);
  if (doc.sets.test) rows.push(['test images', String(doc.sets.test.count)]);
  if (doc.floatAccuracy.validation !== undefined) rows.push(['float accuracy, validation', pct(doc.floatAccuracy.validation)]);
  if (doc.floatAccuracy.confirmation !== undefined) rows.push(['float accuracy, confirmation', pct(doc.floatAccuracy.confirmation)]);
  if (doc.floatAccuracy.test !== undefined) rows.push(['float accuracy, test', pct(doc.floatAccuracy.test)]);
  for (const [k, v] of Object.entries(doc.environment)) rows.push([k, v]);
  const s = doc.search;
  if (s) {
    const c = s.chosen;
    rows.push(
      ['method', `${s.method} (objective ${s.objective}, at most ${100 * s.maxLoss} point lost on validation)`],
      ['chosen config', c.label],
      ['accuracy, ' + (doc.sets.confirmation ? 'confirmation' : 'validation'), `${pct(c.validation.accuracy)} (${c.validation.backend})`],
      ...(c.test ? [['accuracy, test', `${pct(c.test.accuracy)} (${c.test.backend}; float ${pct(doc.floatAccuracy.test)})`]] : []),
      ['size', `${pct(c.validation.sizeVsInt8)} of int8 everywhere`],
      ['bit-operations', `${pct(c.validation.bopsVsInt8)} of int8 everywhere`],
      ...(c.test?.gpuMsPerImage !== undefined && c.int8Test?.gpuMsPerImage !== undefined
        ? [['GPU time', `${c.test.gpuMsPerImage.toFixed(3)} ms per image, ${pct(c.test.gpuMsPerImage / c.int8Test.gpuMsPerImage)} of int8 everywhere's ${c.int8Test.gpuMsPerImage.toFixed(3)}`]]
        : []),
      ['evaluations', `${s.evaluations}${s.imagesEvaluated !== undefined ? ` (${s.imagesEvaluated} images)` : ''} in ${s.seconds.toFixed(0)} s`],
    );
  }
  if (doc.shard) rows.push(['shard', `${doc.shard.index} of ${doc.shard.count} (merge the shards with quantgpu merge)`]);
  return table(['', ''], rows);
}

function details(doc: ResultsDoc): string {
  const parts: string[] = [];
  if (doc.points) {
    parts.push(
      `<h2>Points (${esc(doc.points[0]?.split ?? '')} split, ${esc(doc.points[0]?.backend ?? '')})</h2>`,
      table(
        ['config', 'accuracy', 'agreement with float', 'SQNR (dB)', 'size vs int8', 'bit-ops vs int8', 'GPU ms/image'],
        doc.points.map((p) => [p.label, pct(p.accuracy), pct(p.agreement), Number.isFinite(p.sqnrDb) ? p.sqnrDb.toFixed(1) : 'inf', pct(p.sizeVsInt8), pct(p.bopsVsInt8), p.gpuMsPerImage?.toFixed(3) ?? '']),
      ),
    );
  }
  if (doc.sensitivity) {
    const worst = [...doc.sensitivity.cells].sort((a, b) => a.accuracyDelta - b.accuracyDelta).slice(0, 15);
    parts.push(
      '<h2>Most sensitive choices</h2>',
      table(['layer', 'tensor', 'bits', 'accuracy change', 'SQNR (dB)'], worst.map((c) => [shortName(c.layer), c.kind, String(c.bits), `${(100 * c.accuracyDelta).toFixed(2)} points`, Number.isFinite(c.sqnrDb) ? c.sqnrDb.toFixed(1) : 'inf'])),
    );
  }
  if (doc.search) parts.push('<h2>The chosen config (eval --config accepts it as it is)</h2>', `<pre>${esc(JSON.stringify(doc.search.chosen.config, null, 2))}</pre>`);
  return parts.join('\n');
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}th{background:#f4f4f4}
.chart{width:100%;margin:12px 0 28px}pre{background:#f6f6f6;padding:10px;overflow:auto;font-size:12px}`;

/**
 * A results file as one HTML page that opens offline: a summary, the charts
 * (ECharts inlined), the tables behind them and the chosen config. Charts
 * are drawn by `reportCharts` from the same document the page embeds.
 */
export function reportHtml(doc: ResultsDoc): string {
  const charts = reportCharts(doc);
  const title = `quantgpu ${doc.command}: ${doc.model}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${summary(doc)}
${charts.map((c) => `<h2>${esc(c.title)}</h2><div class="chart" id="${c.id}" style="height:${c.height}px"></div>`).join('\n')}
${details(doc)}
<script id="quantgpu-results" type="application/json">${scriptJson(doc)}</script>
<script>${echartsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>
const charts = ${scriptJson(charts.map((c) => ({ id: c.id, option: c.option })))};
window.quantgpuCharts = charts.map((c) => {
  const chart = echarts.init(document.getElementById(c.id), null, { renderer: 'canvas' });
  chart.setOption(c.option);
  return chart;
});
window.addEventListener('resize', () => window.quantgpuCharts.forEach((c) => c.resize()));
document.documentElement.dataset.chartsDrawn = String(window.quantgpuCharts.length);
</script>
</body></html>
`;
}
