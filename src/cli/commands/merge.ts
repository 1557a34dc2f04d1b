import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { mergeResults, parseResults, type ResultsDoc } from '../../search/results.js';
import { printJson } from '../output.js';
import { writeResults } from '../search-setup.js';

/** A results.json, or a folder holding one. */
function readResults(path: string): ResultsDoc {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseResults(json, file);
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('combine the results of --shard runs of one sweep or sensitivity table (folders or results.json files) into the whole, with its report')
    .argument('<results...>', 'the shards: folders written by --out, or their results.json')
    .option('--out <dir>', 'write the merged results.json and report.html there')
    .option('--json', 'print the merged document on stdout')
    .action((paths: string[], opts: { out?: string; json?: boolean }) => {
      const merged = mergeResults(paths.map(readResults), paths);
      writeResults(merged, opts.out);
      if (opts.json) printJson(merged);
      else process.stdout.write(`merged ${paths.length} shard(s) of a ${merged.command} of ${merged.model}: ${merged.points?.length ?? merged.sensitivity?.cells.length ?? 0} ${merged.points ? 'points' : 'cells'}\n`);
    });
}
