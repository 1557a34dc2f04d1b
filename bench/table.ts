import { formatTextTable } from '../src/util/text-table.js';

/** The benches' tables: one column per key met in any row, the first left-aligned, the others right-aligned. */
export function formatTable(rows: ReadonlyArray<Readonly<Record<string, string | number>>>): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return formatTextTable(cols, rows.map((r) => cols.map((c) => String(r[c] ?? '')))).join('\n');
}
