import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { EXECUTOR_CHOICES, parseExecutorChoice, type ExecutorChoice } from '../executor/executor.js';
import type { GpuHost } from '../gpu/adapter-info.js';
import { gpuHostChoices, parseGpuHost } from '../host/gpu-runner.js';
import type { Dim } from '../ir/shape.js';
import type { Preprocessing } from '../io/image.js';

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

/** What every command that loads a model takes: fixed input sizes and the images' preprocessing. */
export interface ModelOptions {
  /** `--shape` values (parseShapeOption). */
  readonly shape?: readonly string[];
  readonly preprocess?: Preprocessing;
}

/** `--shape` and `--preprocess`, for every command that runs a model. */
export function modelOptions(command: Command): Command {
  return command
    .option('--shape <dims>', 'fix an input shape: 1,3,224,224 or name=N,3,224,224 (a name keeps a dimension symbolic; repeatable)', collect, [])
    .option('--preprocess <scale,mean,std>', 'image preprocessing (over the model card\'s): x = (pixel * scale - mean) / std, mean and std one value or one per channel with ":" (1/255,0.485:0.456:0.406,0.229:0.224:0.225)', parsePreprocess);
}

/** `scale,mean,std`: scale a number or a fraction (1/255); mean and std one number or one per channel, joined by ':'. */
export function parsePreprocess(v: string): Preprocessing {
  const parts = v.split(',').map((s) => s.trim());
  const num = (text: string): number => {
    const s = text.trim();
    const m = /^([-+]?[\d.]+(?:e[-+]?\d+)?)(?:\/([\d.]+(?:e[-+]?\d+)?))?$/i.exec(s);
    const x = m === null ? NaN : Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]));
    if (!Number.isFinite(x)) throw new InputError(`--preprocess ${v}: '${s}' is not a finite number`);
    return x;
  };
  if (parts.length !== 3) throw new InputError(`--preprocess ${v}: give scale,mean,std (e.g. 1/255,0.5,0.5)`);
  const [scale, mean, std] = [num(parts[0]!), parts[1]!.split(':').map(num), parts[2]!.split(':').map(num)];
  if (!(scale > 0)) throw new InputError(`--preprocess ${v}: the scale must be positive`);
  if (std.some((s) => !(s > 0))) throw new InputError(`--preprocess ${v}: every std must be positive`);
  return { scale, mean, std };
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
