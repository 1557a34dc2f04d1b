/**
 * Activation memory by liveness: tensors never alive at the same time share
 * one buffer (a slot). Steps run in order; a tensor is alive from the step
 * that first writes it (inputs: before the first step) to the last step that
 * reads it or any alias of it (graph outputs: to the end, for the readback).
 * Greedy best fit: a new tensor takes the smallest free slot that holds it,
 * else the largest free slot, grown, else a new slot. A step's outputs are
 * placed before its inputs are released, so no kernel reads and writes one
 * buffer. Constants are not planned here: they have buffers of their own.
 */
import type { CommandGraph } from './steps.js';

export interface MemoryPlan {
  /** The slot of every planned tensor key (aliases resolve to their root's). */
  readonly slotOf: ReadonlyMap<string, number>;
  readonly slotBytes: readonly number[];
  /** Sum of the slots: what the session allocates for activations. */
  readonly plannedBytes: number;
  /** Sum of all non-alias, non-constant tensors: one buffer each. */
  readonly naiveBytes: number;
}

export function rootOf(g: CommandGraph, key: string): string {
  const t = g.tensors.get(key);
  return t?.aliasOf ?? key;
}

export function planMemory(g: CommandGraph): MemoryPlan {
  const planned = [...g.tensors.values()].filter((t) => t.aliasOf === undefined && t.constant === undefined);
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const io of g.inputs) first.set(io.key, -1);
  g.steps.forEach((s, i) => {
    for (const role of Object.values(s.plan.buffers)) {
      if (role.role === 'constant') continue;
      const root = rootOf(g, role.tensor);
      if (role.role === 'output' && !first.has(root)) first.set(root, i);
      last.set(root, Math.max(last.get(root) ?? -1, i));
    }
  });
  const end = g.steps.length;
  for (const o of g.outputs) {
    last.set(rootOf(g, o.key), end);
    if (o.integer !== undefined) last.set(rootOf(g, o.integer.key), end);
  }

  const bytes = new Map(planned.map((t) => [t.key, t.bytes]));
  const byFirst = new Map<number, string[]>();
  const byLast = new Map<number, string[]>();
  for (const t of planned) {
    const f = first.get(t.key);
    if (f === undefined) continue; // never written nor read
    byFirst.set(f, [...(byFirst.get(f) ?? []), t.key]);
    const l = Math.max(last.get(t.key) ?? f, f);
    byLast.set(l, [...(byLast.get(l) ?? []), t.key]);
  }

  const slotBytes: number[] = [];
  const free = new Set<number>();
  const slotOf = new Map<string, number>();
  const place = (key: string): void => {
    const need = bytes.get(key)!;
    let best: number | undefined;
    for (const s of free) if (slotBytes[s]! >= need && (best === undefined || slotBytes[s]! < slotBytes[best]!)) best = s;
    if (best === undefined) for (const s of free) if (best === undefined || slotBytes[s]! > slotBytes[best]!) best = s;
    if (best === undefined) {
      best = slotBytes.length;
      slotBytes.push(need);
    } else {
      free.delete(best);
      slotBytes[best] = Math.max(slotBytes[best]!, need);
    }
    slotOf.set(key, best);
  };
  for (let i = -1; i <= end; i++) {
    for (const key of byFirst.get(i) ?? []) place(key);
    for (const key of byLast.get(i) ?? []) free.add(slotOf.get(key)!);
  }
  for (const t of g.tensors.values()) if (t.aliasOf !== undefined && slotOf.has(t.aliasOf)) slotOf.set(t.key, slotOf.get(t.aliasOf)!);
  return {
    slotOf,
    slotBytes,
    plannedBytes: slotBytes.reduce((a, b) => a + b, 0),
    naiveBytes: planned.reduce((a, t) => a + t.bytes, 0),
  };
}
