import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import type { ExecutorChoice } from '../../executor/executor.js';
import { qdqToOnnx } from '../../export/onnx/qdq.js';
import { qonnxToOnnx } from '../../export/onnx/qonnx.js';
import { PRESETS, type QuantConfig } from '../../quant/config.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { quantize } from '../../quant/pipeline.js';
import { loadConfig, withStatsCalibrator } from '../config-option.js';
import { loadCliModel, noteQuantized, quantizedModelFile, statsForModelFile } from '../model-setup.js';
import { refinementForModelFile } from '../refinement-setup.js';
import { executorOption, modelOptions, positiveInt, type ModelOptions } from '../options.js';
import { checkWritable, printJson, writeFileAtomic } from '../output.js';

/** The writers by format: QDQ for 8-bit activations (as ONNX Runtime's quantizer lays it out), QONNX's Quant for any config. */
const FORMATS = { qdq: qdqToOnnx, qonnx: qonnxToOnnx } as const;
const FORMAT_NAMES = Object.keys(FORMATS) as Array<keyof typeof FORMATS>;

interface ExportOptions extends ModelOptions {
  config: string;
  stats?: string;
  /** `--refinement`: a file of `quantgpu refine`. */
  refinement?: string;
  data?: string;
  calibImages: number;
  format: string;
  output: string;
  json?: boolean;
  executor: ExecutorChoice;
}

export function registerExport(program: Command): void {
  executorOption(modelOptions(program
    .command('export')
    .description('write a quantized model as ONNX: QDQ (QuantizeLinear/DequantizeLinear, int8 weights per channel, as ONNX Runtime\'s quantizer lays it out; 8-bit activations) or QONNX (its Quant operator, any config of 2 to 8 bits)')
    .argument('<model>', 'model file (.onnx, or a TF.js model.json)')
    .option('--config <preset|file>', `quantization: a preset (${Object.keys(PRESETS).join(', ')}), a JSON file or inline JSON; QDQ holds 8-bit activations, QONNX any`, 'w8a8')
    .option('--stats <file>', 'calibration statistics from `quantgpu calibrate`')
    .option('--refinement <file>', 'AdaRound codes and bias corrections from `quantgpu refine` (with the statistics they were learned on); configs that ask for them learn now without it')
    .option('--data <dataset>', "calibrate now on its training split when no --stats is given (default: the model card's dataset)")
    .option('--calib-images <n>', 'calibration images when no --stats is given', (v) => positiveInt(v, '--calib-images'), 512)
    .option('--format <name>', `file format: ${FORMAT_NAMES.join(', ')}`, 'qdq')
    .requiredOption('-o, --output <file>', 'where to write the ONNX model')
    .option('--json', 'print one JSON document on stdout')))
    .action(async (modelPath: string, opts: ExportOptions, command: Command) => {
      if (!(FORMAT_NAMES as string[]).includes(opts.format)) throw new InputError(`--format ${opts.format}: choose one of ${FORMAT_NAMES.join(', ')}`);
      const write = FORMATS[opts.format as keyof typeof FORMATS];
      if (opts.config === 'float') throw new InputError('--config float: export writes a quantized model; give a quantized config');
      const fromFile = quantizedModelFile(modelPath, opts, (f) => command.getOptionValueSource(f) === 'cli', true);
      const parsed = fromFile ? undefined : loadConfig(opts.config);
      // An output path that cannot be written fails now, not after calibration.
      checkWritable(opts.output, '-o');
      const qg = fromFile?.quantized ?? (await calibrated(modelPath, parsed!, opts));
      const bytes = write(qg);
      writeFileAtomic(opts.output, bytes);
      const counts = { quantizedTensors: qg.tensors.size, integerWeights: qg.layers.filter((l) => l.kind === 'conv' || l.kind === 'dense').length };
      if (opts.json) printJson({ model: modelPath, format: opts.format, config: qg.config.name ?? 'custom', output: opts.output, bytes: bytes.byteLength, ...counts });
      else process.stderr.write(`export: ${opts.format} of ${modelPath} (${qg.config.name ?? 'custom'}): ${counts.integerWeights} layers with integer weights, ${counts.quantizedTensors} quantized tensors, ${bytes.byteLength} bytes -> ${opts.output}\n`);
    });
}

/** The config quantized with statistics (the --stats file, or a calibration now) and, where it asks for learning, a refinement. */
async function calibrated(modelPath: string, parsed: QuantConfig, opts: ExportOptions): Promise<QuantizedGraph> {
  const graph = loadCliModel(modelPath, opts.shape);
  const { tensors, calibrator } = await statsForModelFile(modelPath, { ...opts, equalize: parsed.equalize === true }, 'export');
  const config = withStatsCalibrator(parsed, opts.config, calibrator);
  const qg = quantize(graph, tensors, config, { refinement: await refinementForModelFile(modelPath, tensors, config, opts) });
  noteQuantized(qg);
  return qg;
}
