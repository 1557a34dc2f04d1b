/**
 * Draws ChartSpecs (src/search/report/charts.ts, the HTML report's chart
 * code) with ECharts: the page builds no chart of its own, only the data.
 */
import * as echarts from 'echarts';
import type { ChartSpec } from '../../src/search/report/charts.js';

const drawn = new Map<HTMLElement, echarts.ECharts>();

/** Replaces the charts in `box` by `specs`; `onPoint` hears clicks on named points (a config's label). */
export function drawCharts(box: HTMLElement, specs: readonly ChartSpec[], onPoint?: (name: string) => void): void {
  for (const [el, chart] of drawn) {
    if (box.contains(el)) {
      chart.dispose();
      drawn.delete(el);
    }
  }
  box.innerHTML = '';
  for (const spec of specs) {
    const fig = document.createElement('figure');
    fig.className = 'chart';
    const cap = document.createElement('figcaption');
    cap.textContent = spec.title;
    const el = document.createElement('div');
    el.id = `chart-${spec.id}`;
    el.style.height = `${spec.height}px`;
    fig.append(cap, el);
    box.append(fig);
    // SVG: crisp in screenshots, and no canvas readback warnings in headless Chromium.
    const chart = echarts.init(el, undefined, { renderer: 'svg' });
    chart.setOption({ ...spec.option, animation: false });
    if (onPoint) chart.on('click', (e) => typeof e.name === 'string' && e.name !== '' && onPoint(e.name));
    drawn.set(el, chart);
  }
}

addEventListener('resize', () => drawn.forEach((c) => c.resize()));
