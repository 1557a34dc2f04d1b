/** What test/gpu/page/main.ts puts on window for the browser host to call. */
import type { AdapterFacts } from '../../../src/gpu/adapter-info.js';
import type { ProgramArgs, ProgramName, ProgramResult } from './programs.js';
import type { CheckedRun } from './run-checked.js';

export interface QuantgpuTestApi {
  /** Gets the device (once) and returns its facts; rejects with GpuUnavailableError's message when there is none. */
  init(): Promise<AdapterFacts>;
  run<N extends ProgramName>(name: N, args: ProgramArgs<N>): Promise<CheckedRun<ProgramResult<N>>>;
}

declare global {
  interface Window {
    quantgpuTest?: QuantgpuTestApi;
  }
}
