import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BAD_MODELS } from '../helpers/bad-models.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'quantgpu-cli-'));

/** The CLI as a user meets it: a real process, its exit code, stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('CLI errors', () => {
  for (const [what, c] of Object.entries(BAD_MODELS)) {
    it(`info on ${what}: one line naming ${c.error.name}, exit 2`, async () => {
      const file = join(dir, `${what.replace(/\W+/g, '_')}.onnx`);
      writeFileSync(file, c.bytes());
      const r = await cli('info', file);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${c.error.name}: `));
      expect(lines[0]).toMatch(c.message);
    });
  }

  it('a missing model file names the path', async () => {
    const r = await cli('info', join(dir, 'nope.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^InputError: cannot read model .*nope\.onnx: ENOENT/);
  });

  it('--debug prints the stack', async () => {
    const r = await cli('info', join(dir, 'nope.onnx'), '--debug');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
