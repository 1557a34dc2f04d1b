/**
 * What a browser leaves behind, read from /proc (Linux): puppeteer starts
 * Chromium as the leader of a process group of its own, so the processes of
 * one browser (its GPU, renderer and zygote processes included) are the live
 * members of that group; and it gives it a temporary --user-data-dir, which
 * must be gone once the browser is closed or dead.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly state: string;
  readonly args: readonly string[];
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields after its last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    return { pid, state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), args };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

function processes(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is ProcInfo => p !== undefined);
}

/** A browser as it runs: its main process (the group leader) and its temporary profile folder. */
export interface BrowserTraces {
  readonly pid: number;
  readonly userDataDir: string;
}

/** The traces of a browser from its main process's id. */
export function browserTraces(pid: number): BrowserTraces {
  const p = readProc(pid);
  const dir = p?.args.find((a) => a.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length);
  if (p === undefined || dir === undefined) throw new Error(`process ${pid} is not a browser with a --user-data-dir`);
  return { pid, userDataDir: dir };
}

/** The browsers (processes with a --user-data-dir that lead their group) whose parent is `ppid`. */
export function browsersOf(ppid: number): BrowserTraces[] {
  return processes()
    .filter((p) => p.ppid === ppid && p.pgrp === p.pid && p.args.some((a) => a.startsWith('--user-data-dir=')))
    .map((p) => browserTraces(p.pid));
}

/** Live (not zombie) processes of the browser's group. */
export function liveProcessesOf(b: BrowserTraces): number[] {
  return processes()
    .filter((p) => p.pgrp === b.pid && p.state !== 'Z')
    .map((p) => p.pid);
}

/** Waits up to `ms` for every process of the browser to end and its profile folder to go, then asserts both. */
export async function expectBrowserGone(b: BrowserTraces, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && (liveProcessesOf(b).length > 0 || existsSync(b.userDataDir))) await new Promise((r) => setTimeout(r, 100));
  expect(liveProcessesOf(b), `processes of the browser ${b.pid} still running`).toEqual([]);
  expect(existsSync(b.userDataDir), `the browser's profile ${b.userDataDir} still there`).toBe(false);
}
