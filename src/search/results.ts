import { InputError } from '../errors.js';
import type { QuantConfig } from '../quant/config.js';
import type { Objective } from './cost-model.js';
import type { Evaluation } from './evaluator.js';
import type { SearchMethod, TraceEntry } from './search.js';
import type { LayerTimes, SensitivityCell } from './sensitivity.js';
import type { Shard } from './shard.js';

/** Where a set of images came from. */
export interface SetRecord {
  readonly split: 'train' | 'test';
  readonly start: number;
  readonly count: number;
}

/** One evaluated config: its label, config and measures (an Evaluation, without the per-run timing). */
export interface PointRecord extends Omit<Evaluation, 'seconds'> {
  readonly id: number;
  readonly label: string;
  readonly config: QuantConfig;
}

/**
 * Everything a sweep, a sensitivity table or a search found, intermediate
 * results included (every candidate a search evaluated, the whole
 * sensitivity table), so that a report is a function of this file alone
 * and can be drawn again without running anything. Partial files from
 * `--shard` runs merge into the whole (`mergeResults`).
 */
export interface ResultsDoc {
  readonly format: 'quantgpu-search-results';
  readonly version: 1;
  readonly command: 'sweep' | 'sensitivity' | 'search';
  readonly model: string;
  readonly dataset: string;
  /** search: `validation` the images it chose on, `confirmation` the ones its decider judged on. */
  readonly sets: { readonly calibration: SetRecord; readonly validation?: SetRecord; readonly confirmation?: SetRecord; readonly test?: SetRecord };
  /** Float accuracy on each set evaluated (fractions). */
  readonly floatAccuracy: { readonly validation?: number; readonly confirmation?: number; readonly test?: number };
  /** What produced the file: the adapter for GPU times, the executor. */
  readonly environment: Readonly<Record<string, string>>;
  readonly shard?: Shard;
  /** The layers with weight bits and with activation bits, in network order (for tables and charts). */
  readonly space?: { readonly weightLayers: readonly string[]; readonly activationLayers: readonly string[] };
  /** sweep: its points. */
  readonly points?: readonly PointRecord[];
  /** sensitivity (and search fast): the reference and the table. */
  readonly sensitivity?: { readonly reference: Omit<Evaluation, 'seconds'>; readonly cells: readonly SensitivityCell[]; readonly gpuMs?: LayerTimes };
  readonly search?: {
    readonly method: SearchMethod;
    readonly objective: Objective;
    readonly maxLoss: number;
    readonly chosen: {
      readonly config: QuantConfig;
      readonly label: string;
      readonly costVsInt8: number;
      readonly validation: Omit<Evaluation, 'seconds'>;
      readonly test?: Omit<Evaluation, 'seconds'>;
      /** The int8-everywhere config on the same test images (and the GPU, where one ran). */
      readonly int8Test?: Omit<Evaluation, 'seconds'>;
    };
    readonly trace: readonly TraceEntry[];
    readonly evaluations: number;
    readonly imagesEvaluated?: number;
    readonly seconds: number;
  };
}

export function withoutTiming(e: Evaluation): Omit<Evaluation, 'seconds'> {
  const { seconds: _seconds, ...rest } = e;
  return rest;
}

/** Reads a results file's JSON; a file of another kind or version is an InputError naming it. */
export function parseResults(json: unknown, where: string): ResultsDoc {
  const o = json as Partial<ResultsDoc> | null;
  if (typeof o !== 'object' || o === null || o.format !== 'quantgpu-search-results') throw new InputError(`${where}: not a quantgpu results file (format is not 'quantgpu-search-results')`);
  if (o.version !== 1) throw new InputError(`${where}: results version ${String(o.version)}, this quantgpu reads version 1`);
  if (o.command !== 'sweep' && o.command !== 'sensitivity' && o.command !== 'search') throw new InputError(`${where}: unknown command ${String(o.command)}`);
  return o as ResultsDoc;
}

/**
 * The shards of one job as one document: the same command, model, dataset
 * and sets, every point and cell once (by id, in order). The shards must
 * cover the job: each of 1..N once.
 */
export function mergeResults(docs: readonly ResultsDoc[], where: readonly string[]): ResultsDoc {
  if (docs.length === 0) throw new InputError('merge: no results files');
  const first = docs[0]!;
  const same = (d: ResultsDoc): string => JSON.stringify([d.command, d.model, d.dataset, d.sets]);
  docs.forEach((d, i) => {
    if (same(d) !== same(first)) throw new InputError(`merge: ${where[i]} is another job (${d.command} of ${d.model} on ${d.dataset}) than ${where[0]} (${first.command} of ${first.model} on ${first.dataset})`);
    if (d.command === 'search') throw new InputError(`merge: ${where[i]} is a search; only sweeps and sensitivity tables are sharded`);
  });
  const counts = new Set(docs.map((d) => d.shard?.count ?? 1));
  if (counts.size > 1) throw new InputError(`merge: the files come from different shard counts (${[...counts].join(', ')})`);
  const n = [...counts][0]!;
  const seen = docs.map((d) => d.shard?.index ?? 1).sort((a, b) => a - b);
  const expected = Array.from({ length: n }, (_, i) => i + 1);
  if (JSON.stringify(seen) !== JSON.stringify(expected)) throw new InputError(`merge: shards ${seen.join(', ')} given; a job of ${n} needs each of ${expected.join(', ')} once`);
  const byId = <T extends { id: number }>(lists: Array<readonly T[] | undefined>): T[] => lists.flatMap((l) => l ?? []).sort((a, b) => a.id - b.id);
  const { shard: _shard, ...rest } = first;
  const merged: ResultsDoc = {
    ...rest,
    ...(first.points ? { points: byId(docs.map((d) => d.points)) } : {}),
    ...(first.sensitivity ? { sensitivity: { ...first.sensitivity, cells: byId(docs.map((d) => d.sensitivity?.cells)) } } : {}),
  };
  return merged;
}
