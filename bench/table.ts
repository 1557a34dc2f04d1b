/** The benches' tables: one column per key met in any row, the first left-aligned, the others right-aligned. */
export function formatTable(rows: ReadonlyArray<Readonly<Record<string, string | number>>>): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (r: Readonly<Record<string, string | number>>, c: string): string => String(r[c] ?? '');
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (cells: string[]): string => cells.map((v, i) => (i === 0 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  ');
  return [cols.map((c, i) => c.padEnd(width[i]!)).join('  '), ...rows.map((r) => line(cols.map((c) => cell(r, c))))].join('\n');
}
