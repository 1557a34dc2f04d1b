import type { Command } from 'commander';
import { runQuantized } from '../../cpu/golden/golden-executor.js';
import type { Tensor } from '../../cpu/tensor.js';
import { InputError } from '../../errors.js';
import { simulatedCodes } from '../../eval/backends.js';
import { describeAdapter } from '../../eval/gpu-backend.js';
import { createFakeQuantExecutor, createFloatExecutor, type ExecutorChoice } from '../../executor/executor.js';
import type { GpuHost } from '../../gpu/adapter-info.js';
import { gpuHostChoices, openGpuRunner } from '../../host/gpu-runner.js';
import type { Graph } from '../../ir/graph.js';
import { formatShape } from '../../ir/shape.js';
import { cardPreprocessing, readModelCard } from '../../model/model-card.js';
import { PRESETS } from '../../quant/config.js';
import { quantize } from '../../quant/pipeline.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { loadConfig, withStatsCalibrator } from '../config-option.js';
import { readInputFile } from '../input-file.js';
import { loadCliModel, noteQuantized, quantizedModelFile, statsForModelFile } from '../model-setup.js';
import { refinementForModelFile } from '../refinement-setup.js';
import { collect, executorOption, gpuHost, modelOptions, noteFallback, positiveInt, type ModelOptions } from '../options.js';
import { printJson } from '../output.js';

const BACKENDS = ['cpu-float', 'cpu-golden', 'fake-quant', 'gpu'] as const;
type RunBackend = (typeof BACKENDS)[number];

interface RunOptions extends ModelOptions {
  input: string[];
  json?: boolean;
  executor: ExecutorChoice;
  backend: string;
  config?: string;
  stats?: string;
  /** `--refinement`: a file of `quantgpu refine`. */
  refinement?: string;
  data?: string;
  calibImages: number;
  gpu: GpuHost;
}

/** What one run gives: float outputs by name and, from a quantized backend, the integer codes each was dequantized from. */
interface RunOutcome {
  outputs: Record<string, Tensor>;
  integers: Record<string, Int32Array>;
  /** What computed it: an executor, the golden model, or an adapter. */
  where: string;
}

export function registerRun(program: Command): void {
  executorOption(modelOptions(program
    .command('run')
    .description('run one input through a model, float or quantized, on the CPU or the GPU, and print its outputs')
    .argument('<model>', 'model file (.onnx, or a TF.js model.json)')
    .requiredOption('--input <file>', 'input tensor: .npy, .pb (ONNX TensorProto) or .png/.jpg; name=file for a model with several inputs (repeatable)', collect, [])
    .option('--backend <name>', `where to run: ${BACKENDS.join(', ')}`, 'cpu-float')
    .option('--config <preset|file>', `quantization: a preset (${Object.keys(PRESETS).join(', ')}), a JSON file, inline JSON, or float (default w8a8 for quantized backends)`)
    .option('--stats <file>', 'calibration statistics from `quantgpu calibrate`')
    .option('--refinement <file>', 'AdaRound codes and bias corrections from `quantgpu refine` (with the statistics they were learned on); configs that ask for them learn now without it')
    .option('--data <dataset>', "calibrate now on its training split when no --stats is given (default: the model card's dataset)")
    .option('--calib-images <n>', 'calibration images when no --stats is given', (v) => positiveInt(v, '--calib-images'), 256)
    .option('--gpu <host>', `with --backend gpu, where the device lives: ${gpuHostChoices()}`, gpuHost, 'browser')
    .option('--json', 'print one JSON document on stdout')))
    .action(async (modelPath: string, opts: RunOptions, command: Command) => {
      if (!(BACKENDS as readonly string[]).includes(opts.backend)) throw new InputError(`--backend ${opts.backend}: choose one of ${BACKENDS.join(', ')}`);
      const backend = opts.backend as RunBackend;
      const floatOnly = opts.config === 'float' || (backend === 'cpu-float' && opts.config === undefined);
      if (backend === 'cpu-float' && !floatOnly) throw new InputError(`--config ${opts.config} needs a quantized backend (cpu-golden, fake-quant or gpu)`);
      if (floatOnly && (backend === 'cpu-golden' || backend === 'fake-quant')) throw new InputError(`--backend ${backend} runs a quantized model: give a --config other than float`);
      const fromFile = quantizedModelFile(modelPath, opts, (f) => command.getOptionValueSource(f) === 'cli', true);
      const graph = loadCliModel(modelPath, opts.shape);
      const card = readModelCard(modelPath);
      const inputs = readInputs(graph, opts.input, opts.preprocess ?? cardPreprocessing(card), card?.input?.layout);
      // Validate the config before any calibration.
      const configSpec = opts.config ?? 'w8a8';
      const parsed = floatOnly || fromFile ? undefined : loadConfig(configSpec);
      let qg: QuantizedGraph | undefined = floatOnly ? undefined : fromFile?.quantized;
      if (parsed !== undefined) {
        const { tensors, calibrator } = await statsForModelFile(modelPath, { ...opts, equalize: parsed.equalize === true }, `--config ${configSpec}`);
        const config = withStatsCalibrator(parsed, configSpec, calibrator);
        qg = quantize(graph, tensors, config, { refinement: await refinementForModelFile(modelPath, tensors, config, opts) });
        noteQuantized(qg);
      }
      const t0 = performance.now();
      const r = await runOn(backend, graph, qg, inputs, opts);
      const ms = performance.now() - t0;
      const config = qg === undefined ? 'float' : (qg.config.name ?? 'custom');
      if (opts.json) {
        printJson({
          model: modelPath,
          backend,
          config,
          [backend === 'gpu' ? 'adapter' : 'executor']: r.where,
          milliseconds: ms,
          outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])),
          ...(Object.keys(r.integers).length > 0 ? { integers: Object.fromEntries(Object.entries(r.integers).map(([k, v]) => [k, Array.from(v)])) } : {}),
        });
        return;
      }
      for (const [name, t] of Object.entries(r.outputs)) {
        process.stdout.write(`${name} ${formatShape(t.shape)}\n`);
        const rows = t.shape.length === 2 ? t.shape[0]! : 1;
        const cols = t.data.length / rows;
        for (let row = 0; row < rows; row++) {
          const values = Array.from(t.data.subarray(row * cols, (row + 1) * cols));
          const shown = values.length > 16 ? [...values.slice(0, 16).map(fmt), `... (${values.length} values)`] : values.map(fmt);
          let line = `  [${shown.join(', ')}]`;
          if (t.shape.length === 2 && cols > 1) {
            const best = values.indexOf(Math.max(...values));
            line += `  argmax ${best}${card?.classes?.[best] ? ` (${card.classes[best]})` : ''}`;
          }
          process.stdout.write(line + '\n');
        }
      }
      process.stderr.write(`${backend} (${config}) on ${r.where}: ${ms.toFixed(1)} ms\n`);
    });
}

function readInputs(graph: Graph, specs: readonly string[], pre: ReturnType<typeof cardPreprocessing>, layout: string | undefined): Record<string, Tensor> {
  const inputs: Record<string, Tensor> = {};
  specs.forEach((spec, i) => {
    const eq = spec.indexOf('=');
    const named = eq > 0 && graph.inputs.some((x) => x.name === spec.slice(0, eq));
    const info = named ? graph.inputs.find((x) => x.name === spec.slice(0, eq))! : graph.inputs[i];
    if (!info) throw new InputError(`--input ${spec}: the model has only ${graph.inputs.length} input(s): ${graph.inputs.map((x) => x.name).join(', ')}`);
    inputs[info.name] = readInputFile(named ? spec.slice(eq + 1) : spec, info, pre, layout);
  });
  return inputs;
}

async function runOn(backend: RunBackend, graph: Graph, qg: QuantizedGraph | undefined, inputs: Record<string, Tensor>, opts: RunOptions): Promise<RunOutcome> {
  if (backend === 'gpu') {
    const names = Object.keys(inputs);
    if (names.length !== 1) throw new InputError(`--backend gpu runs models with one input; this run gives ${names.length}`);
    const runner = await openGpuRunner(opts.gpu);
    try {
      const session = await runner.createSession(qg ?? graph);
      try {
        const r = await session.run(inputs[names[0]!]!);
        return { outputs: r.outputs, integers: r.integers, where: `${describeAdapter(await runner.facts())} via ${runner.host}` };
      } finally {
        await session.dispose();
      }
    } finally {
      await runner.close();
    }
  }
  if (backend === 'cpu-golden') {
    const r = runQuantized(qg!, inputs);
    return { outputs: r.outputs, integers: r.integers, where: 'quantgpu golden model' };
  }
  const exec = backend === 'fake-quant' ? await createFakeQuantExecutor(qg!, { executor: opts.executor, onFallback: noteFallback }) : await createFloatExecutor(graph, { executor: opts.executor, onFallback: noteFallback });
  try {
    const outputs = await exec.run(inputs);
    return { outputs, integers: qg === undefined ? {} : simulatedCodes(qg, outputs), where: exec.runtime };
  } finally {
    await exec.dispose();
  }
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(5);
}
