import { InputError } from '../errors.js';

/** One share of a job's independent items: items i with i % count === index - 1. */
export interface Shard {
  /** 1-based, as `--shard 2/4` says it. */
  readonly index: number;
  readonly count: number;
}

/** `K/N` with 1 <= K <= N. */
export function parseShard(value: string, where = '--shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index >= 1 && index <= count)) throw new InputError(`${where} ${value}: give K/N with 1 <= K <= N (the share K of N, e.g. 2/4)`);
  return { index, count };
}

/** Whether item `i` (0-based, in the job's fixed order) belongs to the shard. */
export function inShard(i: number, shard: Shard | undefined): boolean {
  return shard === undefined || i % shard.count === shard.index - 1;
}
