import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, findBrowser } from '../../src/host/chromium-runner.js';
import { makePhotoSet } from '../helpers/photo-set.js';

/**
 * The page as a person uses it, on its static build (what any web server
 * hosts): load the bundled model, calibrate, set one layer to 4 bits in the
 * table, run on the GPU over 500 test images, and check that the accuracy and
 * outputDigest shown equal `quantgpu eval`'s for the same config and
 * statistics (the page's own, saved through its links), on the CPU golden
 * model, whose integers the GPU's equal bit for bit. Any console error fails
 * it. The screenshot is kept in docs/app.png (the README shows it; QUANTGPU_UPDATE_SCREENSHOTS=1 rewrites it).
 */

const IMAGES = 500;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** A plain static file server over the build: nothing Vite-specific on the way. */
function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the page (demo/, static build, headless Chromium)', () => {
  let dir: string;
  let server: Server | undefined;
  const browsers: Browser[] = [];
  let page: Page;
  let problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quantgpu-page-'));
    await build({ configFile: 'vite.config.ts', logLevel: 'error', build: { outDir: join(dir, 'site'), emptyOutDir: true } });
    server = await serve(join(dir, 'site'));
  }, 120_000);

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh browser on the page; its console errors, page errors and failed requests are collected in `problems`. */
  async function open(flags: readonly string[]): Promise<void> {
    const browser = await puppeteer.launch({ executablePath: findBrowser(), headless: true, args: [...flags], protocolTimeout: 300_000 });
    browsers.push(browser);
    page = await browser.newPage();
    problems = [];
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    const { port } = server!.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.getElementById('error')!.textContent !== '', { timeout: 60_000 });
    expect(await page.$eval('#error', (e) => e.textContent)).toBe('');
  }

  /** Waits for a status element to leave `running`/`idle`; fails with the page's error when it ends in error. */
  async function settle(id: string, timeout: number): Promise<void> {
    await page.waitForFunction((i: string) => ['done', 'error', 'cancelled'].includes(document.getElementById(i)!.dataset.state ?? ''), { timeout, polling: 250 }, id);
    const [s, error] = await page.evaluate((i: string) => [document.getElementById(i)!.dataset.state, document.getElementById('error')!.textContent], id);
    expect(s, `#${id}: ${error}`).toBe('done');
  }

  const download = (id: string): Promise<string> => page.evaluate((i: string) => fetch((document.getElementById(i) as HTMLAnchorElement).href).then((r) => r.text()), id);

  it('calibrates, takes a 4-bit layer from the table, runs 500 images on the GPU and shows what `quantgpu eval` gives', async () => {
    await open(CHROMIUM_FLAGS);
    expect(await page.$eval('#gpu-status', (e) => (e as HTMLElement).dataset.gpu)).toMatch(/^(dot4|no-dot4)$/);
    expect(await page.$eval('#model', (e) => (e as HTMLSelectElement).value)).toBe('fashion-vgg');

    await page.click('#calibrate');
    await settle('calib-status', 60_000);

    await page.select('#backend', 'gpu');
    await page.$eval('#test-count', (e, n) => ((e as HTMLInputElement).value = String(n)), IMAGES);
    // A first run (w4a8) so that the trade-off charts have a frontier to draw.
    await page.select('#preset', 'w4a8');
    await page.click('#run');
    await settle('run-status', 100_000);

    // The table: w8a8, then the second convolution's weights at 4 bits.
    await page.select('#preset', 'w8a8');
    const layers = await page.$$eval('#layers tr[data-layer]', (rows) => rows.filter((r) => r.querySelector('select[data-field="weightBits"]')).map((r) => (r as HTMLElement).dataset.layer!));
    expect(layers.length).toBeGreaterThan(2);
    const layer = layers[1]!;
    await page.select(`#layers tr[data-layer="${layer}"] select[data-field="weightBits"]`, '4');
    const config = JSON.parse(await download('save-config')) as { default: unknown; layers?: Record<string, unknown> };
    expect(config.layers).toEqual({ [layer]: { weightBits: 4 } });
    expect(await page.$eval(`#layers tr[data-layer="${layer}"] select[data-field="weightBits"]`, (e) => (e as HTMLSelectElement).value)).toBe('4');

    await page.click('#run');
    await settle('run-status', 100_000);
    const shown = await page.evaluate(() => Object.fromEntries(['accuracy', 'agreement', 'float-accuracy', 'images', 'digest', 'backend'].map((id) => [id, document.getElementById(id)!.dataset.value])));
    expect(shown.backend).toBe('gpu');
    expect(Number(shown.images)).toBe(IMAGES);
    expect(await page.$$eval('#charts figure.chart svg', (s) => s.length)).toBeGreaterThanOrEqual(3);
    expect(await page.$eval('#config', (e) => (e as HTMLElement).dataset.value)).toBe('#2 custom');
    expect(await page.$$eval('#misclassified canvas', (c) => c.length)).toBeGreaterThan(0);

    // The CLI, with the page's config and statistics, on the same first 500 test images.
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'stats.json'), await download('save-stats'));
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'src/cli/bin.ts', 'eval', 'models/fashion-vgg.onnx', '--data', 'fashion-mnist', '--limit', String(IMAGES), '--backend', 'cpu-golden', '--config', join(dir, 'config.json'), '--stats', join(dir, 'stats.json'), '--json'],
      { maxBuffer: 1 << 24 },
    );
    const cli = JSON.parse(stdout) as { accuracy: number; outputDigest: string; agreement: number; floatAccuracy: number; images: number };
    expect(cli.images).toBe(IMAGES);
    expect(Number(shown.accuracy)).toBe(cli.accuracy);
    expect(shown.digest).toBe(cli.outputDigest);
    // Float runs on onnxruntime-web here and onnxruntime-node there: equal up to an image whose top two logits tie within rounding.
    expect(Math.abs(Number(shown['float-accuracy']) - cli.floatAccuracy)).toBeLessThanOrEqual(1 / IMAGES);
    expect(Math.abs(Number(shown.agreement) - cli.agreement)).toBeLessThanOrEqual(1 / IMAGES);

    // The README's screenshot is rewritten only when asked (a test run leaves the tree as it found it).
    await page.screenshot({ path: process.env['QUANTGPU_UPDATE_SCREENSHOTS'] === '1' ? 'docs/app.png' : join(dir, 'app.png'), fullPage: true });

    // Cancel: the run stops between batches and says so; the numbers shown stay the last finished run's.
    await page.click('#run');
    await page.waitForFunction(() => Number((document.getElementById('run-progress') as HTMLProgressElement).value) > 0 && document.getElementById('run-status')!.dataset.state === 'running', { timeout: 60_000, polling: 50 });
    await page.click('#cancel');
    await page.waitForFunction(() => document.getElementById('run-status')!.dataset.state !== 'running', { timeout: 60_000 });
    expect(await page.$eval('#run-status', (e) => (e as HTMLElement).dataset.state)).toBe('cancelled');
    expect(await page.$eval('#digest', (e) => (e as HTMLElement).dataset.value)).toBe(cli.outputDigest);
    expect(problems).toEqual([]);
  }, 240_000);

  it('draws the weights\' sensitivity table on validation images, one row per weight layer, then searches within a loss bound', async () => {
    await open(CHROMIUM_FLAGS.filter((f) => f !== '--enable-unsafe-webgpu'));
    await page.$eval('#calib-count', (e) => ((e as HTMLInputElement).value = '128'));
    await page.click('#calibrate');
    await settle('calib-status', 60_000);
    await page.$eval('#val-count', (e) => ((e as HTMLInputElement).value = '128'));
    const t0 = Date.now();
    await page.click('#sensitivity-run');
    await settle('tune-status', 60_000);
    const weightLayers = await page.$$eval('#layers tr[data-layer]', (rows) => rows.filter((r) => r.querySelector('select[data-field="weightBits"]')).length);
    expect(weightLayers).toBeGreaterThan(2);
    expect(await page.$$eval('#sensitivity figure.chart svg', (s) => s.length)).toBe(1);
    expect(Number(await page.$eval('#sensitivity', (e) => (e as HTMLElement).dataset.rows))).toBe(weightLayers);
    expect(Number(await page.$eval('#sensitivity', (e) => (e as HTMLElement).dataset.cells))).toBe(2 * weightLayers);
    const sensitivitySeconds = (Date.now() - t0) / 1000;

    // Cancel: other bitwidths (the ones above are cached), stopped after the first cell; the chart shown stays.
    await page.$eval('#sens-bits', (e) => ((e as HTMLInputElement).value = '7, 6, 5, 3'));
    await page.click('#sensitivity-run');
    await page.waitForFunction(() => Number((document.getElementById('tune-progress') as HTMLProgressElement).value) > 0 && document.getElementById('tune-status')!.dataset.state === 'running', { timeout: 30_000, polling: 20 });
    await page.click('#tune-cancel');
    await page.waitForFunction(() => document.getElementById('tune-status')!.dataset.state !== 'running', { timeout: 30_000 });
    expect(await page.$eval('#tune-status', (e) => (e as HTMLElement).dataset.state)).toBe('cancelled');
    expect(Number(await page.$eval('#sensitivity', (e) => (e as HTMLElement).dataset.rows))).toBe(weightLayers);

    // The search: its choice lands in the table and, run over the test set, on the charts.
    await page.$eval('#test-count', (e) => ((e as HTMLInputElement).value = '128'));
    await page.$eval('#max-loss', (e) => ((e as HTMLInputElement).value = '2'));
    await page.click('#search-run');
    await settle('tune-status', 120_000);
    await settle('run-status', 60_000);
    const chosen = JSON.parse(await page.$eval('#tune-status', (e) => (e as HTMLElement).dataset.config!)) as unknown;
    expect(JSON.parse(await download('save-config'))).toEqual(chosen);
    expect(await page.$eval('#config', (e) => (e as HTMLElement).dataset.value)).toMatch(/search/);
    expect(await page.$$eval('#charts figure.chart svg', (s) => s.length)).toBeGreaterThanOrEqual(2);
    console.log(`sensitivity ${sensitivitySeconds.toFixed(1)} s, with the search ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(problems).toEqual([]);
  }, 180_000);

  it('takes a folder of labelled images chosen in the browser and gives `quantgpu eval --data FOLDER`\'s numbers', async () => {
    // 30 PNG photos of 15 labels, 28x28 (fashion-vgg's input size; it sees them as grey, as the CLI feeds them).
    const folder = makePhotoSet(join(dir, 'photos'), 30, 28);
    await open(CHROMIUM_FLAGS);
    const gpu = (await page.$eval('#gpu-status', (e) => (e as HTMLElement).dataset.gpu)) !== 'none';
    // Chromium lists a directory given to a webkitdirectory input with each file's webkitRelativePath (photos/<label>/<file>).
    const picker = (await page.$('#data-folder')) as ElementHandle<HTMLInputElement>;
    await picker.uploadFile(folder);
    await page.waitForFunction(() => document.getElementById('data-info')!.dataset.images !== undefined, { timeout: 10_000 });
    expect(await page.$eval('#data-info', (e) => [(e as HTMLElement).dataset.images, (e as HTMLElement).dataset.classes])).toEqual(['30', '15']);
    expect(await page.$eval('#dataset', (e) => (e as HTMLSelectElement).value)).toBe('folder');
    // The page says where exact agreement with the CLI ends: JPEG decoders differ.
    expect(await page.$eval('#data-info', (e) => e.textContent)).toMatch(/PNGs decode to the same pixels.*JPEGs would decode slightly differently/);

    // Calibration on the folder's first 16 images, then a run over all of it (the CLI's eval reads the whole folder).
    await page.$eval('#calib-count', (e) => ((e as HTMLInputElement).value = '16'));
    await page.click('#calibrate');
    await settle('calib-status', 30_000);
    await page.select('#backend', gpu ? 'gpu' : 'cpu-golden');
    await page.select('#preset', 'w8a8');
    await page.click('#run');
    await settle('run-status', 30_000);
    const shown = await page.evaluate(() => Object.fromEntries(['accuracy', 'images', 'digest'].map((id) => [id, document.getElementById(id)!.dataset.value])));
    expect(Number(shown.images)).toBe(30);
    // Photos of astronauts and coins are not clothes: most are misclassified, and shown as the photos they are.
    expect(await page.$$eval('#misclassified canvas', (c) => c.map((x) => (x as HTMLCanvasElement).width))).toContain(28);

    // The sensitivity table on the folder's images after the calibration ones.
    await page.$eval('#val-count', (e) => ((e as HTMLInputElement).value = '14'));
    await page.$eval('#sens-bits', (e) => ((e as HTMLInputElement).value = '4'));
    await page.click('#sensitivity-run');
    await settle('tune-status', 30_000);
    expect(await page.$eval('#tune-status', (e) => e.textContent)).toMatch(/on 14 validation images/);

    writeFileSync(join(dir, 'folder-config.json'), await download('save-config'));
    writeFileSync(join(dir, 'folder-stats.json'), await download('save-stats'));
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'src/cli/bin.ts', 'eval', 'models/fashion-vgg.onnx', '--data', folder, '--backend', 'cpu-golden', '--config', join(dir, 'folder-config.json'), '--stats', join(dir, 'folder-stats.json'), '--json'],
      { maxBuffer: 1 << 24 },
    );
    const cli = JSON.parse(stdout) as { accuracy: number; outputDigest: string; images: number };
    expect(cli.images).toBe(30);
    expect(Number(shown.accuracy)).toBe(cli.accuracy);
    expect(shown.digest).toBe(cli.outputDigest);
    expect(problems).toEqual([]);
  }, 60_000);

  it('without WebGPU it says so and runs on the CPU golden model', async () => {
    await open(CHROMIUM_FLAGS.filter((f) => f !== '--enable-unsafe-webgpu'));
    expect(await page.$eval('#gpu-status', (e) => (e as HTMLElement).dataset.gpu)).toBe('none');
    expect(await page.$eval('#gpu-status', (e) => e.textContent)).toMatch(/No WebGPU here .*CPU golden model/);
    expect(await page.$eval('#backend', (e) => (e as HTMLSelectElement).value)).toBe('cpu-golden');
    await page.$eval('#calib-count', (e) => ((e as HTMLInputElement).value = '128'));
    await page.click('#calibrate');
    await settle('calib-status', 60_000);
    await page.$eval('#test-count', (e) => ((e as HTMLInputElement).value = '128'));
    await page.click('#run');
    await settle('run-status', 60_000);
    expect(await page.$eval('#backend', (e) => (e as HTMLElement).dataset.value)).toBe('cpu-golden');
    expect(Number(await page.$eval('#accuracy', (e) => (e as HTMLElement).dataset.value))).toBeGreaterThan(0.85);

    // A config that learns (w4a8-adaround): the page calibrates the equalized model and learns its
    // rounding on the calibration images first, saying so, then runs; a second run learns nothing.
    await page.select('#preset', 'w4a8-adaround');
    await page.click('#run');
    await page.waitForFunction(() => /learning AdaRound/.test(document.getElementById('run-status')!.textContent ?? ''), { timeout: 120_000, polling: 100 });
    await settle('run-status', 300_000);
    const learned = Number(await page.$eval('#accuracy', (e) => (e as HTMLElement).dataset.value));
    expect(learned).toBeGreaterThan(0.85);
    const seen: string[] = [];
    await page.exposeFunction('sawStatus', (t: string) => seen.push(t));
    await page.evaluate(() => {
      const el = document.getElementById('run-status')!;
      new MutationObserver(() => (window as unknown as { sawStatus(t: string): void }).sawStatus(el.textContent ?? '')).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await page.click('#run');
    await settle('run-status', 60_000);
    expect(seen.filter((t) => /learning|calibrating/.test(t))).toEqual([]);
    expect(Number(await page.$eval('#accuracy', (e) => (e as HTMLElement).dataset.value))).toBe(learned);
    expect(problems).toEqual([]);
  }, 480_000);
});
