/**
 * The order of a folder of labelled images, one subfolder per label: the
 * CLI's `--data FOLDER` (image-folder.ts, from the file system) and the
 * page's folder pick (file-list.ts, from the browser's File objects) both
 * number and order the images here, so that the first N images, a test set's
 * labels and an outputDigest are the same in both.
 */

/** The files a folder dataset reads (others are skipped). */
export const IMAGE_FILE = /\.(png|jpe?g)$/i;

export interface LabelledFile<F> {
  file: F;
  label: number;
}

/**
 * Labels are the subfolders' indices in sorted order (`classes`, empty ones
 * included where the caller lists them); each subfolder's image files in
 * sorted order; then a fixed round-robin interleaving over labels, which
 * keeps a `--limit` slice (or the page's first N) balanced across classes.
 * Sorting is JavaScript's default (UTF-16 code units), the same on every platform.
 */
export function labelledOrder<F>(classes: readonly string[], filesOf: (label: string) => ReadonlyArray<{ name: string; file: F }>): { classes: string[]; files: Array<LabelledFile<F>> } {
  const sorted = [...classes].sort();
  const byLabel = sorted.map((c, label) =>
    filesOf(c)
      .filter((f) => IMAGE_FILE.test(f.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((f) => ({ file: f.file, label })),
  );
  const total = byLabel.reduce((n, l) => n + l.length, 0);
  const files: Array<LabelledFile<F>> = [];
  for (let i = 0; files.length < total; i++) for (const list of byLabel) if (i < list.length) files.push(list[i]!);
  return { classes: sorted, files };
}
