/** What test/gpu/page/main.ts puts on window for the browser host to call. */
import type { ProgramArgs, ProgramName, ProgramResult } from './programs.js';
import type { CheckedRun } from './run-checked.js';

export interface QuantgpuTestApi {
  /** Runs a program on the page's device (page-entry's, the one its sessions use). */
  run<N extends ProgramName>(name: N, args: ProgramArgs<N>): Promise<CheckedRun<ProgramResult<N>>>;
}

declare global {
  interface Window {
    quantgpuTest?: QuantgpuTestApi;
  }
}
