/**
 * What must happen when the process is interrupted (Ctrl-C, a kill): Node's
 * default for SIGINT, SIGTERM and SIGHUP ends the process at once, without
 * its 'exit' handlers, so a browser started in a process group of its own
 * would outlive it, and its temporary profile folder would stay behind.
 * Whoever holds such a resource registers its cleanup here while it holds
 * it; on the first of those signals every cleanup runs (each given a few
 * seconds), then the signal is raised again with its default action, so the
 * process ends as the signal ends it (a shell reports 128 + its number).
 * While nothing is registered, no handler is installed and the signals keep
 * Node's default.
 */
type Cleanup = () => Promise<unknown> | unknown;

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

/** How long one cleanup may take before the exit goes ahead without it. */
const CLEANUP_MS = 10_000;

const cleanups = new Set<Cleanup>();
let received: Signal | undefined;

function onSignal(signal: Signal): void {
  if (received !== undefined) return; // a second Ctrl-C while cleaning up changes nothing
  received = signal;
  const all = [...cleanups].map((c) => Promise.race([Promise.resolve().then(c).catch(() => undefined), new Promise((r) => setTimeout(r, CLEANUP_MS).unref())]));
  void Promise.all(all).then(() => {
    // Then the signal again, with its default action: the process ends as the
    // signal ends it (a shell reports 128 + its number), and nothing native is
    // torn down on the way (process.exit() runs addons' cleanup hooks, and
    // onnxruntime-node's can abort the process in the middle of a session).
    for (const s of SIGNALS) process.off(s, handlers[s]);
    process.kill(process.pid, signal);
  });
}

const handlers = Object.fromEntries(SIGNALS.map((s) => [s, () => onSignal(s)])) as Record<Signal, () => void>;

/** Runs `cleanup` if the process is interrupted; the returned function unregisters it (call it once the resource is released). */
export function onInterrupt(cleanup: Cleanup): () => void {
  if (cleanups.size === 0) for (const s of SIGNALS) process.on(s, handlers[s]);
  cleanups.add(cleanup);
  return () => {
    if (!cleanups.delete(cleanup) || cleanups.size > 0 || received !== undefined) return;
    for (const s of SIGNALS) process.off(s, handlers[s]);
  };
}

/** The signal that interrupted the process, once one has (work failing because its browser is closing is not an error to report). */
export function interruptedBy(): Signal | undefined {
  return received;
}
