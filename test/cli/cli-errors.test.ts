/**
 * The CLI does not lie: every error path of every command, usage errors
 * included, exits 2 with exactly one line on stderr, and with --json prints
 * nothing on stdout; Ctrl-C (SIGINT to the process) ends a run with one line,
 * by the signal (re-raised after the cleanup: a shell's 130), and leaves
 * nothing of the browser it had started (no process of its group, no
 * temporary profile).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/io/npy.js';
import { cli } from '../helpers/cli.js';
import { browsersOf, expectBrowserGone, type BrowserTraces } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-errors-'));
const MODEL = 'models/fashion-vgg.onnx';
const missing = join(dir, 'missing.onnx');
const garbage = join(dir, 'garbage.onnx');
writeFileSync(garbage, 'not a model at all');
const badNpy = join(dir, 'bad.npy');
writeFileSync(badNpy, new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 9, 9]));
const wrongNpy = join(dir, 'wrong.npy');
writeFileSync(wrongNpy, writeNpy({ shape: [1, 3, 5, 5], data: new Float32Array(75) }));
const badResults = join(dir, 'results.json');
writeFileSync(badResults, '{"version": 1, "truncated": ');
const nowhere = join(dir, 'no-such-folder', 'out.json');

/** Each failing invocation: the first line it must print (a pattern), and its arguments. */
const FAILURES: ReadonlyArray<{ what: string; args: readonly string[]; line: RegExp }> = [
  { what: 'no command', args: [], line: /^error: no command given/ },
  { what: 'an unknown command', args: ['frobnicate', MODEL], line: /^error: unknown command 'frobnicate'/ },
  { what: 'a missing argument', args: ['info'], line: /^error: missing required argument 'model'/ },
  { what: 'an unknown option, with a suggestion', args: ['info', MODEL, '--jsn'], line: /^error: unknown option '--jsn'; \(Did you mean --json\?\)$/ },
  { what: 'a bad option value', args: ['eval', MODEL, '--data', 'fashion-mnist', '--limit', '0', '--json'], line: /--limit/ },
  { what: 'info on a missing file', args: ['info', missing, '--json'], line: /^InputError: cannot read model .*missing\.onnx/ },
  { what: 'info on a file that is no model', args: ['info', garbage, '--json'], line: /^(ModelFormatError|InputError): / },
  { what: 'run on a broken .npy', args: ['run', MODEL, '--input', badNpy, '--json'], line: /^InputError: .*bad\.npy/ },
  { what: 'run on an input of the wrong shape', args: ['run', MODEL, '--input', wrongNpy, '--json'], line: /^ShapeError: / },
  { what: 'eval on an unknown dataset', args: ['eval', MODEL, '--data', join(dir, 'no-data'), '--json'], line: /^InputError: / },
  { what: 'eval with a config that is no JSON', args: ['eval', MODEL, '--data', 'fashion-mnist', '--limit', '8', '--backend', 'cpu-golden', '--config', '{"default": ', '--json'], line: /^QuantConfigError: --config/ },
  { what: 'eval on an unknown GPU host', args: ['eval', MODEL, '--data', 'fashion-mnist', '--backend', 'gpu', '--gpu', 'mars', '--json'], line: /mars/ },
  { what: 'calibrate into a missing folder', args: ['calibrate', MODEL, '--data', 'fashion-mnist', '--images', '8', '-o', nowhere], line: /^InputError: .*no-such-folder/ },
  { what: 'profile on a missing file', args: ['profile', missing, '--json'], line: /^InputError: cannot read model/ },
  { what: 'sweep on an unknown dataset', args: ['sweep', MODEL, '--data', join(dir, 'no-data'), '--json'], line: /^InputError: / },
  { what: 'sensitivity on a missing file', args: ['sensitivity', missing, '--data', 'fashion-mnist', '--json'], line: /^InputError: / },
  { what: 'search on a missing file', args: ['search', missing, '--data', 'fashion-mnist', '--json'], line: /^InputError: / },
  { what: 'merge of a truncated results file', args: ['merge', badResults, '--json'], line: /results\.json/ },
  { what: 'export into a missing folder', args: ['export', MODEL, '-o', join(dir, 'no-such-folder', 'm.onnx'), '--json'], line: /^InputError: .*no-such-folder/ },
];

describe.concurrent('CLI error paths', () => {
  for (const f of FAILURES) {
    it(`${f.what}: exit 2, one line on stderr, nothing on stdout`, async () => {
      const r = await cli(...f.args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout, 'stdout').toBe('');
      const lines = r.stderr.split('\n');
      expect(lines.at(-1), 'stderr ends with a newline').toBe('');
      expect(lines.slice(0, -1), 'stderr').toHaveLength(1);
      expect(lines[0]).toMatch(f.line);
    }, 60_000);
  }

  it('--help and --version are not errors: exit 0', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: quantgpu/);
  });
});

/** Starts the CLI, waits until `ready(child pid)` holds, sends SIGINT, and returns what it did. */
async function interrupt(args: readonly string[], ready: (pid: number) => boolean): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 120_000;
  while (!ready(child.pid!) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(child.exitCode, `the CLI ended before it was interrupted: ${stderr}`).toBeNull();
  child.kill('SIGINT');
  return { ...(await exited), stdout, stderr };
}

describe('CLI interrupted (Ctrl-C)', () => {
  it('eval --backend gpu --gpu browser: one line, ended by SIGINT, the browser and its profile gone', async () => {
    let browser: BrowserTraces | undefined;
    let seenAt = 0;
    const r = await interrupt(['eval', MODEL, '--data', 'fashion-mnist', '--batch', '8', '--backend', 'gpu', '--gpu', 'browser', '--json'], (pid) => {
      browser ??= browsersOf(pid)[0];
      if (browser !== undefined && seenAt === 0) seenAt = Date.now();
      // Interrupt once the browser has run a while (its page loaded, the session under way).
      return browser !== undefined && Date.now() - seenAt > 3000;
    });
    expect(browser, 'the run started a browser').toBeDefined();
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n').at(-1)).toBe('Interrupted: stopped by SIGINT');
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('note:'))).toHaveLength(1);
    expect(r.signal, 'ended by the signal, re-raised after the cleanup (a shell reports 130)').toBe('SIGINT');
    await expectBrowserGone(browser!);
  }, 180_000);

  it('a CPU run: one line, ended by SIGINT', async () => {
    let started = 0;
    const r = await interrupt(['eval', MODEL, '--data', 'fashion-mnist', '--backend', 'cpu-golden', '--json'], () => {
      started ||= Date.now();
      return Date.now() - started > 4000;
    });
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('note:'))).toEqual(['Interrupted: stopped by SIGINT']);
    expect(r.signal, 'ended by the signal, re-raised after the cleanup (a shell reports 130)').toBe('SIGINT');
  }, 180_000);
});
