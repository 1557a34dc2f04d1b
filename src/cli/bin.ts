import { main, oneLine } from './main.js';

// A failure outside the command's own promise (a stream's error event, a
// rejection nobody awaited) still ends as one line and exit 2, not a stack.
const fatal = (e: unknown): void => {
  const debug = process.argv.includes('--debug');
  process.stderr.write(debug && e instanceof Error ? `${e.stack}\n` : `${oneLine(`Error: ${e instanceof Error ? e.message : String(e)}`)}\n`);
  process.exit(2);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

process.exitCode = await main(process.argv.slice(2));
