import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, findBrowser } from '../../src/host/chromium-runner.js';
import { cli } from '../helpers/cli.js';

/**
 * sweep, sensitivity, search and merge end to end through the CLI on the
 * smallest zoo model (digits-vgg): their JSON, one bad input each, shards
 * that merge into the unsharded run, a search whose choice keeps its bound
 * and that `eval --config` runs as it is, and a report that a browser draws.
 */
const model = 'models/digits-vgg.onnx';
const dir = mkdtempSync(join(tmpdir(), 'quantgpu-search-'));

async function json(...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('quantgpu sweep', () => {
  const grid = ['--weights', '8,4', '--acts', '8,4', '--limit', '200'];

  it('evaluates each point of the grid on the test split, with its cost', async () => {
    const doc = await json('sweep', model, ...grid);
    expect(doc).toMatchObject({ format: 'quantgpu-search-results', command: 'sweep', model, dataset: 'digits' });
    const points = doc.points as Array<Record<string, unknown>>;
    expect(points.map((p) => p.label)).toEqual(['w8a8 affine per-channel max', 'w8a4 affine per-channel max', 'w4a8 affine per-channel max', 'w4a4 affine per-channel max']);
    for (const p of points) {
      for (const k of ['accuracy', 'agreement', 'sqnrDb', 'sizeVsInt8', 'bopsVsInt8', 'config']) expect(p).toHaveProperty(k);
      expect(p.split).toBe('test');
      expect(p.images).toBe(200);
    }
    expect(points[3]!.bopsVsInt8).toBeCloseTo(0.25, 6);
  });

  it('shards merge into exactly the unsharded run', async () => {
    const whole = await json('sweep', model, ...grid);
    for (const k of ['1/2', '2/2']) {
      const r = await cli('sweep', model, ...grid, '--shard', k, '--out', join(dir, `shard-${k.replace('/', '-')}`));
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = await json('merge', join(dir, 'shard-1-2'), join(dir, 'shard-2-2'), '--out', join(dir, 'merged'));
    expect(merged.points).toEqual(whole.points);
    expect(JSON.parse(readFileSync(join(dir, 'merged', 'results.json'), 'utf8')).points).toEqual(whole.points);
    const twice = await cli('merge', join(dir, 'shard-1-2'), join(dir, 'shard-1-2'));
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^InputError: merge: shards 1, 1 given; a job of 2 needs each of 1, 2 once/);
  });

  it('a bitwidth outside the choices is an InputError naming the flag', async () => {
    const r = await cli('sweep', model, '--weights', '8,9');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('InputError: --weights 8,9: each of 9 must be one of 8, 7, 6, 5, 4, 3, 2');
  });
});

describe('quantgpu sensitivity', () => {
  it('one cell per layer, tensor and bitwidth, on the validation split', async () => {
    const doc = await json('sensitivity', model, '--bits', '4,2', '--validation-images', '300');
    const space = doc.space as { weightLayers: string[]; activationLayers: string[] };
    const cells = (doc.sensitivity as { cells: Array<Record<string, unknown>> }).cells;
    expect(cells).toHaveLength(2 * (space.weightLayers.length + space.activationLayers.length));
    expect((doc.sets as { validation: unknown }).validation).toEqual({ split: 'train', start: 512, count: 300 });
    for (const c of cells) for (const k of ['layer', 'kind', 'bits', 'accuracyDelta', 'sqnrDb', 'noiseDelta']) expect(c).toHaveProperty(k);
    // 2-bit weights hurt more than 4-bit ones, layer by layer, in output SNR.
    for (const layer of space.weightLayers) {
      const [w4, w2] = [4, 2].map((b) => cells.find((c) => c.layer === layer && c.kind === 'weights' && c.bits === b)!.sqnrDb as number);
      expect(w4!, layer).toBeGreaterThan(w2!);
    }
  });

  it('an unknown backend is an InputError', async () => {
    const r = await cli('sensitivity', model, '--backend', 'gpu-fast');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^InputError: --backend gpu-fast: /);
  });
});

describe('quantgpu search', () => {
  it('fast: keeps the bound on the validation split, and eval --config runs the chosen config as it is', async () => {
    const out = join(dir, 'search-fast');
    const doc = await json('search', model, '--out', out);
    for (const k of ['config', 'accuracy', 'floatAccuracy', 'validationAccuracy', 'sizeVsInt8', 'bopsVsInt8', 'evaluations', 'seconds']) expect(doc).toHaveProperty(k);
    expect(doc.method).toBe('fast');
    // One point of loss at most on validation, by the golden model, one standard error inside it.
    expect((doc.validationFloatAccuracy as number) - (doc.validationAccuracy as number)).toBeLessThanOrEqual(0.01);
    expect(doc.bopsVsInt8 as number).toBeLessThan(0.5);
    const again = await json('eval', model, '--data', 'digits', '--backend', 'cpu-golden', '--config', join(out, 'config.json'));
    expect(again.accuracy).toBe(doc.accuracy);
    expect(again.bopsVsInt8).toBeCloseTo(doc.bopsVsInt8 as number, 9);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('quantgpu search');
    // Chosen on one half of the validation images, judged on the other (disjoint, both from the training split).
    const sets = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { sets: Record<string, { split: string; start: number; count: number }> }).sets;
    expect(sets.confirmation!.start).toBe(sets.validation!.start + sets.validation!.count);
    expect([sets.validation!.split, sets.confirmation!.split]).toEqual(['train', 'train']);
    expect(doc.validationImages).toEqual({ chosenOn: sets.validation!.count, judgedOn: sets.confirmation!.count });
  });

  it('sequential (pow2, Qm.n offsets): keeps the bound too, with many more evaluations', async () => {
    const doc = await json('search', model, '--method', 'sequential', '--scheme', 'pow2', '--validation-images', '400');
    expect((doc.validationFloatAccuracy as number) - (doc.validationAccuracy as number)).toBeLessThanOrEqual(0.01);
    const layers = Object.values((doc.config as { layers: Record<string, Record<string, number>> }).layers);
    expect(layers.some((l) => l.weightFractionalBits !== undefined)).toBe(true);
    expect(doc.evaluations as number).toBeGreaterThan(20);
  });

  it('on the equalized model with analytic bias correction: the chosen config carries both, and eval --config runs it as it is', async () => {
    const out = join(dir, 'search-equalized');
    const doc = await json('search', model, '--equalize', '--bias-correction', 'analytic', '--validation-images', '400', '--limit', '200', '--out', out);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { equalize?: boolean; default: { biasCorrection?: string } };
    expect(config.equalize).toBe(true);
    expect(config.default.biasCorrection).toBe('analytic');
    expect((doc.validationFloatAccuracy as number) - (doc.validationAccuracy as number)).toBeLessThanOrEqual(0.01);
    const again = await json('eval', model, '--data', 'digits', '--limit', '200', '--backend', 'cpu-golden', '--config', join(out, 'config.json'));
    expect(again.accuracy).toBe(doc.accuracy);
    const r = await cli('search', model, '--bias-correction', 'empirical');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^InputError: --bias-correction empirical: .*none, analytic/);
  });

  it('an unknown objective is an InputError naming the choices', async () => {
    const r = await cli('search', model, '--objective', 'latency');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('InputError: --objective latency: each of latency must be one of size, bops, size+bops, gpu-time');
  });

  it('the report opens offline in Chromium with every chart drawn and no console error', async () => {
    const html = join(dir, 'search-fast', 'report.html');
    const browser = await puppeteer.launch({ executablePath: findBrowser(), headless: true, args: [...CHROMIUM_FLAGS] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(`file://${html}`, { waitUntil: 'load' });
      await page.waitForFunction(() => document.documentElement.dataset.chartsDrawn !== undefined, { timeout: 30_000 });
      const { drawn, divs, canvases } = await page.evaluate(() => ({
        drawn: Number(document.documentElement.dataset.chartsDrawn),
        divs: document.querySelectorAll('div.chart').length,
        canvases: Array.from(document.querySelectorAll("div.chart canvas")).filter((c) => (c as HTMLCanvasElement).width > 0).length,
      }));
      expect(drawn).toBeGreaterThanOrEqual(5);
      expect(divs).toBe(drawn);
      expect(canvases).toBeGreaterThanOrEqual(drawn);
      expect(errors).toEqual([]);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
