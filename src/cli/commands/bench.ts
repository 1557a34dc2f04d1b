import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { benchModelNames, defaultSearchResults, ENGINES, launchPeersRunner, readPeersDoc, runPeersBench, searchedConfigs, type EngineName } from '../../bench/peers.js';
import { peersMarkdown } from '../../bench/peers-table.js';
import { positiveInt } from '../options.js';
import { checkWritable, printJson, writeFileAtomic } from '../output.js';

interface BenchOptions {
  quick?: boolean;
  models?: string;
  engines?: string;
  batch?: string;
  warmup?: number;
  repeats?: number;
  out: string;
  json?: boolean;
  table?: string;
  searched?: string;
}

/** Where `quantgpu-searched` finds its configs, in the repository, unless --searched says otherwise (bench/search.bench.ts writes it). */
const SEARCH_RESULTS = 'bench/results/search.json';

/** `--quick`: one small zoo model, batch 1, a short count: a check that every engine runs, not a measurement. */
const QUICK = { models: ['fashion-vgg'], batches: [1], warmup: 1, repeats: 3 };
const FULL = { batches: [1, 8], warmup: 1, repeats: 5 };

/** A comma-separated list, each item one of `choices`. */
function listOf<T extends string>(v: string, flag: string, choices: readonly T[]): T[] {
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InputError(`${flag} '${v}': give at least one of ${choices.join(', ')}`);
  const unknown = items.filter((s) => !choices.includes(s as T));
  if (unknown.length > 0) throw new InputError(`${flag} ${unknown.join(',')}: not one of ${choices.join(', ')}`);
  return [...new Set(items)] as T[];
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('the peers bench: every model through ONNX Runtime Web (WebGPU, wasm, WebGPU on our QDQ export), TF.js (WebGPU, wasm) and quantgpu (float, w8a8, w4a8, and the config a search chose where bench/results/search.json has one) in one headless Chromium; medians, load and first-run times, output checks, ratios')
    .option('--quick', `${QUICK.models.join(',')} only, batch ${QUICK.batches.join(',')}, ${QUICK.repeats} repeats: that every engine runs`)
    .option('--models <list>', 'comma-separated: zoo model names, mobilenetv2-224-torch, nsfwjs-mobilenetv2 (default: all)')
    .option('--engines <list>', `comma-separated, of ${ENGINES.join(', ')} (default: all; ort-wasm is the float reference)`)
    .option('--batch <list>', `comma-separated batch sizes (default ${FULL.batches.join(',')})`)
    .option('--warmup <n>', `runs after the first, before timing (default ${FULL.warmup})`, (v) => positiveInt(v, '--warmup'))
    .option('--repeats <n>', `timed runs, the median reported (default ${FULL.repeats})`, (v) => positiveInt(v, '--repeats'))
    .option('-o, --out <file>', 'the results as JSON', 'bench/results/peers.json')
    .option('--json', 'print the results JSON on stdout instead of the Markdown table')
    .option('--searched <file>', `quantgpu-searched's configs: a results file of bench/search.bench.ts, one config per model (default ${SEARCH_RESULTS} where it exists; models without one skip the engine)`)
    .option('--table <file>', 'print the Markdown table of saved results (a peers.json) and run nothing')
    .action(async (opts: BenchOptions) => {
      if (opts.table !== undefined) {
        process.stdout.write(`${peersMarkdown(readPeersDoc(opts.table))}\n`);
        return;
      }
      const known = benchModelNames();
      const base = opts.quick ? QUICK : { ...FULL, models: known };
      const models = opts.models === undefined ? base.models : listOf(opts.models, '--models', known);
      const engines: EngineName[] = opts.engines === undefined ? [...ENGINES] : listOf(opts.engines, '--engines', ENGINES);
      const batches = opts.batch === undefined ? base.batches : opts.batch.split(',').map((b) => positiveInt(b.trim(), '--batch'));
      const searchFile = opts.searched ?? defaultSearchResults();
      if (searchFile === undefined && opts.engines !== undefined && engines.includes('quantgpu-searched')) throw new InputError(`--engines quantgpu-searched: no ${SEARCH_RESULTS} in the repository; give --searched FILE`);
      const searched = searchFile === undefined ? undefined : searchedConfigs(searchFile);
      checkWritable(opts.out, '--out');
      const { runner, files } = await launchPeersRunner();
      try {
        const doc = await runPeersBench(runner, files, {
          models,
          engines,
          batches: [...new Set(batches)],
          warmup: opts.warmup ?? base.warmup,
          repeats: opts.repeats ?? base.repeats,
          ...(searched === undefined ? {} : { searched }),
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        writeFileAtomic(opts.out, `${JSON.stringify(doc, null, 2)}\n`);
        if (opts.json) printJson(doc);
        else process.stdout.write(`${peersMarkdown(doc)}\n`);
      } finally {
        await runner.close();
      }
    });
}
