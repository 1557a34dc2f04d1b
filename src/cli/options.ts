import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { EXECUTOR_CHOICES, parseExecutorChoice, type ExecutorChoice } from '../executor/executor.js';
import type { GpuHost } from '../gpu/adapter-info.js';
import { gpuHostChoices, parseGpuHost } from '../host/gpu-runner.js';
import type { Dim } from '../ir/shape.js';

/**
 * `--shape 1,3,48,192` (the first input) or `--shape name=1,3,48,192`;
 * a dimension may stay symbolic by giving a name (`N,3,48,192`).
 */
export function parseShapeOption(values: readonly string[], inputNames: readonly string[]): Record<string, Dim[]> {
  const out: Record<string, Dim[]> = {};
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    const name = eq >= 0 ? v.slice(0, eq) : inputNames[0];
    if (name === undefined) throw new InputError('--shape: the model has no inputs');
    const dims = (eq >= 0 ? v.slice(eq + 1) : v).split(/[,x]/).map((d) => d.trim());
    out[name] = dims.map((d) => {
      if (/^\d+$/.test(d) && Number(d) > 0) return Number(d);
      if (/^[A-Za-z_][\w]*$/.test(d)) return d;
      throw new InputError(`--shape ${v}: '${d}' is neither a positive size nor a dimension name`);
    });
  }
  return out;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--gpu <host>`'s parser: a GpuHost, `chromium` still read as `browser` (its name before). */
export function gpuHost(v: string): GpuHost {
  const host = parseGpuHost(v);
  if (host === undefined) throw new InputError(`--gpu ${v}: choose one of ${gpuHostChoices()}`);
  return host;
}

export function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`${flag} ${v}: give a positive integer`);
  return n;
}

/** `--executor auto|ort|js`: where the float and fake-quant passes run. */
export function executorOption(command: Command): Command {
  return command.option(
    '--executor <name>',
    `float and fake-quant passes on ${EXECUTOR_CHOICES.join(', ')} (auto: ONNX Runtime where it loads, else quantgpu's own TypeScript executor)`,
    (v: string) => parseExecutorChoice(v, '--executor'),
    'auto' as ExecutorChoice,
  );
}

/** Tells stderr why `--executor auto` fell back to our executor. */
export function noteFallback(reason: string): void {
  process.stderr.write(`note: ${reason}\n`);
}
