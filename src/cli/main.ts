import { Command, CommanderError } from 'commander';
import { QuantGpuError } from '../errors.js';
import { registerBench } from './commands/bench.js';
import { interruptedBy, onInterrupt } from '../util/interrupt.js';
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
 * `quantgpu <command> MODEL [options]`. Every failure prints one line on
 * stderr (`ErrorName: message`, or commander's `error: ...` for usage) and
 * exits 2; `--debug` prints the stack instead. Ctrl-C prints one line and
 * ends by the signal (a shell says 130), after closing what was open (a browser, its temporary profile).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('quantgpu')
    .description('quantized CNN inference on the GPU with WebGPU, and what each bitwidth costs and buys')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    // Usage errors as one line (commander puts a "Did you mean" on a line of its own).
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`${oneLine(s)}\n`) });
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
  registerBench(program);
  if (argv.every((a) => a === '--debug')) {
    process.stderr.write('error: no command given (quantgpu --help lists them)\n');
    return 2;
  }
  // Ctrl-C: one line, the exit status a shell gives a process the signal ended (interrupt.ts closes what is open first).
  const forgetInterrupt = onInterrupt(() => process.stderr.write(`Interrupted: stopped by ${interruptedBy()}\n`));
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    // Work that failed because the interrupt closed its browser: the interrupt's line says it all.
    if (interruptedBy() !== undefined) return 130;
    // --help and --version end through here with 0; a usage error has printed its line (outputError).
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const debug = argv.includes('--debug');
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    else process.stderr.write(`${oneLine(e instanceof QuantGpuError ? `${e.name}: ${e.message}` : `Error: ${e instanceof Error ? e.message : String(e)}`)}\n`);
    return 2;
  } finally {
    forgetInterrupt();
  }
}

/** A message as one line: later lines (a compiler's, a library's detail) joined with '; '. */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
}
