import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';
import type { RgbaImage } from './image-tensor.js';

// In files of their own so that the page can import them without the PNG and JPEG decoders (Node streams).
export { DEFAULT_PREPROCESSING, type Preprocessing } from './preprocessing.js';
export { imageToTensor, type RgbaImage } from './image-tensor.js';

/**
 * The most pixels an image may have (8192 x 8192): a header may claim any size,
 * and the decoders allocate the whole bitmap before they find the data short.
 */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

export function decodeImage(bytes: Uint8Array, what: string): RgbaImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (isPng && bytes.length >= 24) {
    // IHDR comes first: width and height, big-endian, at bytes 16 and 20.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const width = view.getUint32(16);
    const height = view.getUint32(20);
    if (width * height > MAX_IMAGE_PIXELS) throw new InputError(`${what}: the PNG claims ${width} x ${height} pixels, above the ${MAX_IMAGE_PIXELS} this reader takes`);
  }
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 512 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new InputError(`${what}: cannot decode the image (${(e as Error).message})`);
  }
  throw new InputError(`${what}: not a PNG or JPEG image`);
}
