/**
 * A folder of labelled images chosen in a browser (`<input type="file"
 * webkitdirectory>`, or a folder dropped on the page): the layout `--data
 * FOLDER` reads, ordered by the same function (folder-order.ts), decoded by
 * the browser's own image decoders and resized and preprocessed by the CLI's
 * `imageToTensor`. No Node module: the page imports it.
 *
 * Equal to the CLI's numbers where the decoders agree: PNG is lossless, so
 * an opaque PNG decodes to the same RGBA bytes in both (the browser is told
 * to leave colour profiles and alpha alone); JPEG decoders may differ in
 * their last bit (IDCT and chroma upsampling), a canvas stores
 * premultiplied alpha, so a translucent pixel's colour may too, and a 16-bit
 * PNG is brought to 8 bits by each decoder its own way.
 */
import { InputError } from '../errors.js';
import { imageToTensor, type RgbaImage } from '../io/image-tensor.js';
import { layoutShape, type ImageDataset } from './dataset.js';
import { labelledOrder, type LabelledFile } from './folder-order.js';

/** A file with its path below the folder chosen: `root/label/name.png` (a File's `webkitRelativePath`). */
export interface PathedFile {
  path: string;
  file: Blob;
}

/** A folder of labelled images in the browser: its classes and its images in the CLI's order. */
export interface FileFolder {
  /** The folder's name (the first path segment). */
  name: string;
  classes: string[];
  files: Array<LabelledFile<PathedFile>>;
}

/**
 * Groups files by their label subfolder (`root/label/file`: the segment
 * before the file name). As the CLI, which reads the files of each label
 * subfolder and no deeper, files elsewhere (beside the label folders, or in
 * folders below them) are left out, as are files that are not PNG or JPEG.
 */
export function fileFolder(files: readonly PathedFile[]): FileFolder {
  const byLabel = new Map<string, Array<{ name: string; file: PathedFile }>>();
  let root: string | undefined;
  for (const f of files) {
    const parts = f.path.split('/').filter((p) => p !== '');
    if (parts.length !== 3) continue;
    const [top, label, name] = parts as [string, string, string];
    root ??= top;
    let list = byLabel.get(label);
    if (!list) byLabel.set(label, (list = []));
    list.push({ name, file: f });
  }
  if (byLabel.size === 0) {
    throw new InputError(`no label subfolders among the ${files.length} files chosen: choose a folder that holds one subfolder per label (folder/<label>/<image>.png)`);
  }
  const { classes, files: ordered } = labelledOrder([...byLabel.keys()], (c) => byLabel.get(c)!);
  if (ordered.length === 0) throw new InputError(`${root}: the label subfolders hold no .png or .jpg files`);
  return { name: root!, classes, files: ordered };
}

/**
 * A file's pixels as 8-bit RGBA, straight (not premultiplied) alpha, as
 * decoded by the browser with no colour conversion (the CLI's decoders apply
 * none either).
 */
export async function decodeInBrowser(file: Blob, what: string): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw new InputError(`${what}: cannot decode the image (${(e as Error).message})`);
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new InputError(`${what}: no 2D canvas to read the decoded pixels from`);
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: bitmap.width, height: bitmap.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } finally {
    bitmap.close();
  }
}

/**
 * Images [start, start + limit) of a folder (the CLI's `imageFolderDataset`
 * with the same arguments hands out the same images with the same labels).
 * Files are decoded batch by batch, the batch's files at once (the browser
 * decodes off the page's thread), so a large folder never sits in memory whole.
 */
export function fileFolderDataset(folder: FileFolder, limit = Infinity, start = 0, decode: (file: Blob, what: string) => Promise<RgbaImage> = decodeInBrowser): ImageDataset {
  const picked = folder.files.slice(start, start + limit);
  return {
    name: folder.name,
    count: picked.length,
    classes: folder.classes,
    async *batches(batchSize, size, pre, layout = 'NCHW') {
      const [c, h, w] = size;
      const per = c * h * w;
      for (let at = 0; at < picked.length; at += batchSize) {
        const part = picked.slice(at, at + batchSize);
        const images = await Promise.all(part.map((f) => decode(f.file.file, f.file.path)));
        const data = new Float32Array(part.length * per);
        images.forEach((img, i) => data.set(imageToTensor(img, c, h, w, pre, layout).data, i * per));
        yield { x: { shape: layoutShape(part.length, size, layout), data }, labels: Int32Array.from(part, (f) => f.label) };
      }
    },
  };
}
