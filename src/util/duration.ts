/** A duration for a person reading a progress line: `1m 05s`, `42s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The time left at the rate so far: `done` of `total` units took `elapsedSeconds`. */
export function eta(elapsedSeconds: number, done: number, total: number): string {
  return done > 0 ? duration((elapsedSeconds * (total - done)) / done) : '?';
}
