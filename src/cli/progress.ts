import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr. With --json it appears only when stderr is a
 * terminal, so scripts that read stdout and log stderr get no bar noise.
 */
export function progressBar(label: string, json: boolean): Progress {
  const tty = Boolean(process.stderr.isTTY);
  if (json && !tty) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {value}/{total} {detail}`, noTTYOutput: !tty, notTTYSchedule: 5000, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, detail = '') {
      if (!started) {
        bar.start(total, 0, { detail });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { detail });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
