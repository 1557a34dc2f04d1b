/**
 * Fixed-width text tables for people (the model summary, GPU profiles, the
 * benches): each column as wide as its widest cell, two spaces between
 * columns, text columns left-aligned and number columns right-aligned.
 */
export interface TableOptions {
  /** Columns from this index on are right-aligned (numbers); default: all but the first. */
  readonly rightFrom?: number;
  /** A rule of dashes under the header. */
  readonly rule?: boolean;
}

export function formatTextTable(head: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string[] {
  const rightFrom = options.rightFrom ?? 1;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths.map((w, i) => (i >= rightFrom ? (cells[i] ?? '').padStart(w) : (cells[i] ?? '').padEnd(w))).join('  ').trimEnd();
  return [line(head), ...(options.rule === true ? [widths.map((w) => '-'.repeat(w)).join('  ')] : []), ...rows.map(line)];
}
