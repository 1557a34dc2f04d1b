/**
 * Where the page's images come from: a bundled dataset (demo/data slices,
 * raw pixels in memory) or a folder of labelled images chosen in the browser
 * (decoded file by file). Either gives the calibration, test and validation
 * images as ImageDatasets with their labels, cut as the CLI cuts the same
 * dataset: a bundled one from its train and test splits, a folder (which has
 * no splits) from its first images for every use, as `quantgpu calibrate
 * --data FOLDER --count N` and `quantgpu eval --data FOLDER --limit M` do.
 */
import { inMemoryDataset, type ImageDataset, type LabelledImages } from '../../src/data/dataset.js';
import { fileFolder, fileFolderDataset, type FileFolder, type PathedFile } from '../../src/data/file-list.js';
import type { Preprocessing } from '../../src/io/preprocessing.js';
import { loadSlice } from './assets.js';

/** Some images of a source, with what the page needs besides their batches. */
export interface PageImages {
  dataset: ImageDataset;
  count: number;
  labels: Int32Array;
  classes?: string[];
  /** Draws image `i` (of these) into a canvas of the model's input size, for the misclassified list. */
  draw(i: number, canvas: HTMLCanvasElement, pre: Preprocessing): Promise<void>;
}

export interface DataSource {
  /** Names this source in cache keys: a new folder pick is a new source. */
  key: string;
  /** As the page and a results file name it. */
  label: string;
  kind: 'bundled' | 'folder';
  /** Images [start, start + n) of a split (a folder has one set of images for every split, as the CLI reads it). */
  images(split: 'train' | 'test', start: number, n: number): Promise<PageImages>;
  /** How many images a split has in all. */
  size(split: 'train' | 'test'): Promise<number>;
}

/** Images [start, start + n) of a slice (fewer where the slice ends first). */
export function imagesFrom(set: LabelledImages, start: number, n: number): LabelledImages {
  const from = Math.min(start, set.count);
  const k = Math.max(0, Math.min(n, set.count - from));
  const per = set.channels * set.height * set.width;
  return { ...set, count: k, pixels: set.pixels.subarray(from * per, (from + k) * per), labels: set.labels.subarray(from, from + k) };
}

export function bundledSource(dataset: string): DataSource {
  return {
    key: `bundled:${dataset}`,
    label: dataset,
    kind: 'bundled',
    size: async (split) => (await loadSlice(dataset, split)).count,
    async images(split, start, n) {
      const set = imagesFrom(await loadSlice(dataset, split), start, n);
      return {
        dataset: inMemoryDataset(set),
        count: set.count,
        labels: Int32Array.from(set.labels),
        ...(set.classes ? { classes: set.classes } : {}),
        draw: async (i, canvas, pre) => drawPixels(set, i, canvas, pre),
      };
    },
  };
}

/** A slice's image as stored, brought to 0..255 by the model's scale (1/255, or 1/16 for digits). */
function drawPixels(set: LabelledImages, i: number, canvas: HTMLCanvasElement, pre: Preprocessing): void {
  canvas.width = set.width;
  canvas.height = set.height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(set.width, set.height);
  const plane = set.height * set.width;
  const per = set.channels * plane;
  for (let p = 0; p < plane; p++) {
    const px = (c: number): number => Math.min(255, Math.round(set.pixels[i * per + (set.channels === 1 ? 0 : c) * plane + p]! * pre.scale * 255));
    img.data.set([px(0), px(1), px(2), 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
}

let picks = 0;

/** A folder chosen in the browser (its files with their paths below it). */
export function folderSource(files: readonly PathedFile[]): { source: DataSource; folder: FileFolder } {
  const folder = fileFolder(files);
  const key = `folder:${++picks}:${folder.name}`;
  return {
    folder,
    source: {
      key,
      label: folder.name,
      kind: 'folder',
      size: async () => folder.files.length,
      async images(_split, start, n) {
        const picked = folder.files.slice(start, start + n);
        return {
          dataset: fileFolderDataset(folder, n, start),
          count: picked.length,
          labels: Int32Array.from(picked, (f) => f.label),
          classes: folder.classes,
          draw: async (i, canvas) => {
            // The photo as it is (the list shows what a person would see, not the model's resized input).
            const bitmap = await createImageBitmap(picked[i]!.file.file);
            canvas.width = bitmap.width;
            canvas.height = bitmap.height;
            canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
            bitmap.close();
          },
        };
      },
    },
  };
}

/** The files a folder input gives (each with the path below the folder chosen). */
export function pickedFiles(list: FileList | null): PathedFile[] {
  return Array.from(list ?? [], (f) => ({ path: f.webkitRelativePath || f.name, file: f }));
}

/**
 * A folder dropped on the page: its files with their paths, read through the
 * entries API (a drop's Files carry no paths). The entries are to be taken
 * from the drop event while it is dispatched (`item.webkitGetAsEntry()`): later they are gone.
 */
export async function droppedFolder(entries: ReadonlyArray<FileSystemEntry | null>): Promise<PathedFile[] | undefined> {
  const roots = entries.filter((e): e is FileSystemDirectoryEntry => e?.isDirectory === true);
  if (roots.length === 0) return undefined;
  const out: PathedFile[] = [];
  const walk = async (dir: FileSystemDirectoryEntry, path: string, depth: number): Promise<void> => {
    const reader = dir.createReader();
    // readEntries hands out a directory's entries a hundred or so at a time, until an empty batch.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const e of batch) {
        if (e.isFile) out.push({ path: `${path}/${e.name}`, file: await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject)) });
        // The root's label subfolders hold the images; nothing deeper is read (as the CLI).
        else if (e.isDirectory && depth < 1) await walk(e as FileSystemDirectoryEntry, `${path}/${e.name}`, depth + 1);
      }
    }
  };
  await walk(roots[0]!, roots[0]!.name, 0);
  return out;
}
