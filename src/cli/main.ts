import { Command, CommanderError } from 'commander';
import { QuantGpuError } from '../errors.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerEval } from './commands/eval.js';
import { registerExport } from './commands/export.js';
import { registerInfo } from './commands/info.js';
import { registerMerge } from './commands/merge.js';
import { registerProfile } from './commands/profile.js';
import { registerRefine } from './commands/refine.js';
import { registerRun } from './commands/run.js';
import { registerSearch } from './commands/search.js';
import { registerSensitivity } from './commands/sensitivity.js';
import { registerSweep } from './commands/sweep.js';

/**
 * `quantgpu <command> MODEL [options]`. Failures print one line on stderr
 * (`ErrorName: message`) and exit non-zero; `--debug` adds the stack.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('quantgpu')
    .description('quantized CNN inference on the GPU with WebGPU, and what each bitwidth costs and buys')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerInfo(program);
  registerRun(program);
  registerEval(program);
  registerCalibrate(program);
  registerRefine(program);
  registerProfile(program);
  registerSweep(program);
  registerSensitivity(program);
  registerSearch(program);
  registerMerge(program);
  registerExport(program);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const debug = argv.includes('--debug');
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    else if (e instanceof QuantGpuError) process.stderr.write(`${e.name}: ${e.message}\n`);
    else process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof QuantGpuError ? 2 : 1;
  }
}
