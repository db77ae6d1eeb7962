import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Metadata, OutputInfo } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { AppError } from '../../platform/errors.ts';

// Everything that touches pixels. Uploaded bytes are never served: each upload is
// decoded and encoded again, which drops EXIF/XMP/IPTC, applies the orientation,
// converts colour to sRGB and leaves nothing of a polyglot's second meaning.

/** The formats Inkwell accepts, by sniffed MIME type. */
export const ACCEPTED: Record<string, { ext: string; format: 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' }> = {
  'image/jpeg': { ext: 'jpg', format: 'jpeg' },
  'image/png': { ext: 'png', format: 'png' },
  'image/webp': { ext: 'webp', format: 'webp' },
  'image/avif': { ext: 'avif', format: 'avif' },
  'image/gif': { ext: 'gif', format: 'gif' },
};

type Sharp = typeof import('sharp').default;
let loading: Promise<Sharp> | undefined;
let limited = false;
const applyLimits = (sharp: Sharp) => {
  sharp.concurrency(1);
  sharp.cache(false);
};

/** sharp, loaded with the first image: it maps libvips (~8 MB resident), which a server that never sees an upload does not need. */
export function loadSharp(): Promise<Sharp> {
  return (loading ??= import('sharp').then(({ default: sharp }) => {
    if (limited) applyLimits(sharp);
    return sharp;
  }));
}

/**
 * Keeps sharp's memory flat under parallel uploads: one libvips thread per image
 * and no operation cache (each upload is seen once, so a cache only holds memory).
 * Applied when sharp loads, or at once if it already has.
 */
export function limitSharp(): void {
  if (limited) return;
  limited = true;
  void loading?.then(applyLimits);
}

/** At most `n` image operations at once in this process; the rest wait their turn. */
export function createGate(n: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async function gate<T>(fn: () => Promise<T>): Promise<T> {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** The type of a file from its bytes: one of ACCEPTED, or a 415 naming what it is. */
export async function sniff(path: string): Promise<keyof typeof ACCEPTED> {
  // Loaded with the first upload: file-type is ~30 modules no other path needs.
  const { fileTypeFromFile } = await import('file-type');
  const found = await fileTypeFromFile(path);
  if (found && ACCEPTED[found.mime]) return found.mime;
  if (!found || found.mime === 'application/xml') {
    // SVG is XML text (file-type says at most "XML"); it is the one people try.
    const fh = await open(path, 'r');
    const head = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(head, 0, 1024, 0).finally(() => fh.close());
    if (/<svg[\s>]/i.test(head.subarray(0, bytesRead).toString('latin1'))) {
      throw new AppError(
        'unsupported_media_type',
        'SVG images (image/svg+xml) are not accepted: they can carry scripts. Upload a JPEG, PNG, WebP, AVIF or GIF.',
      );
    }
  }
  const named = found ? `${found.mime} (.${found.ext})` : 'a type Inkwell does not recognise';
  throw new AppError('unsupported_media_type', `This file is ${named}; upload a JPEG, PNG, WebP, AVIF or GIF image.`);
}

export interface CleanedImage {
  width: number;
  height: number;
  animated: boolean;
  hasAlpha: boolean;
  bytes: number;
  hash: string;
}

function damaged(e: unknown, maxPixels: number): AppError {
  const msg = (e as Error).message ?? '';
  if (/pixel limit/i.test(msg)) return tooManyPixels(maxPixels);
  return new AppError('validation_failed', 'The image is damaged or incomplete and cannot be read', [
    { field: 'file', message: 'is damaged or incomplete and cannot be read as an image' },
  ]);
}

const tooManyPixels = (maxPixels: number) =>
  new AppError('payload_too_large', `The image has more than ${maxPixels / 1_000_000} megapixels (MEDIA_MAX_MEGAPIXELS); make it smaller and upload it again.`);

/**
 * Decodes the upload fully and writes the cleaned copy to `outPath` in the same
 * format: orientation applied, metadata stripped, colour converted to sRGB.
 * A damaged, truncated or oversized image is a 4xx.
 */
export async function cleanImage(inPath: string, outPath: string, mime: string, maxPixels: number): Promise<CleanedImage> {
  const { format } = ACCEPTED[mime];
  const animatable = format === 'gif' || format === 'webp';
  // failOn 'warning': a truncated JPEG decodes with a warning, and is refused.
  const sharp = await loadSharp();
  const input = { limitInputPixels: maxPixels, failOn: 'warning' as const, animated: animatable };
  let meta: Metadata;
  try {
    meta = await sharp(inPath, input).metadata();
  } catch (e) {
    throw damaged(e, maxPixels);
  }
  const pages = meta.pages ?? 1;
  if (!meta.width || !meta.height) throw damaged(new Error('no size'), maxPixels);
  if (meta.width * meta.height > maxPixels) throw tooManyPixels(maxPixels);
  const animated = animatable && pages > 1;
  let pipeline = sharp(inPath, input).rotate().withIccProfile('srgb');
  // mozjpeg would save ~10 % of bytes at three times the time (measured on a 4000x3000 photo).
  pipeline =
    format === 'jpeg'
      ? pipeline.jpeg({ quality: 90 })
      : format === 'png'
        ? pipeline.png({ compressionLevel: 8 })
        : format === 'webp'
          ? pipeline.webp({ quality: 90, loop: meta.loop, delay: meta.delay })
          : format === 'avif'
            ? pipeline.avif({ quality: 70, effort: 3 })
            : pipeline.gif({ loop: meta.loop, delay: meta.delay });
  let info: OutputInfo;
  try {
    info = await pipeline.toFile(outPath);
  } catch (e) {
    throw damaged(e, maxPixels);
  }
  return {
    width: info.width,
    height: animated ? (info.pageHeight ?? meta.pageHeight ?? info.height) : info.height,
    animated,
    hasAlpha: meta.hasAlpha ?? false,
    bytes: info.size,
    hash: await sha256File(outPath),
  };
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A thumbhash (base64) of an image: ~25 bytes a page can blur up while the image loads. */
export async function placeholderOf(path: string): Promise<string> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(path, { pages: 1 }).resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

export type VariantFormat = 'avif' | 'webp' | 'jpeg' | 'png' | 'gif';

export interface VariantPlan {
  width: number;
  format: VariantFormat;
}

/**
 * Which variants an image gets: each configured width (MEDIA_WIDTHS, sorted) below
 * its own (and its own width when that is at most the largest), in AVIF, WebP and a
 * JPEG or PNG fallback; animations as animated WebP and GIF.
 */
export function planVariants(img: { width: number; animated: boolean; hasAlpha: boolean }, configured: number[]): VariantPlan[] {
  const widths = configured.filter((w) => w < img.width);
  if (img.width <= configured[configured.length - 1]) widths.push(img.width);
  const formats: VariantPlan['format'][] = img.animated ? ['webp', 'gif'] : ['avif', 'webp', img.hasAlpha ? 'png' : 'jpeg'];
  return widths.flatMap((width) => formats.map((format) => ({ width, format })));
}

/** A still image decoded once, at the largest variant width, that every variant is made from. */
export interface DecodedImage {
  data: Buffer;
  raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
}

/**
 * Decodes a cleaned still image once, shrunk to `width` (JPEG shrinks while
 * decoding): making 15 variants from it instead of from the file saves 14 decodes
 * of the full image.
 */
export async function decodeForVariants(cleanPath: string, width: number): Promise<DecodedImage> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(cleanPath).resize({ width, withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  return { data, raw: { width: info.width, height: info.height, channels: info.channels } };
}

/** Makes one variant, from the decoded image (stills) or the file (animations); returns its size and bytes. */
export async function makeVariant(
  source: string | DecodedImage,
  plan: VariantPlan,
  animated: boolean,
): Promise<{ data: Buffer; width: number; height: number }> {
  const sharp = await loadSharp();
  let p = (typeof source === 'string' ? sharp(source, { animated }) : sharp(source.data, { raw: source.raw })).resize({
    width: plan.width,
    withoutEnlargement: true,
  });
  // Speeds measured at 1920 wide on this project's 2-core machine: AVIF effort 2 took
  // 3.1 s, effort 0 0.6 s; mozjpeg 0.8 s against 0.24 s. Uploads must not queue for minutes.
  p =
    plan.format === 'avif'
      ? p.avif({ quality: 55, effort: 1 })
      : plan.format === 'webp'
        ? p.webp({ quality: 80, effort: 3 })
        : plan.format === 'jpeg'
          ? p.jpeg({ quality: 80, progressive: true })
          : plan.format === 'png'
            ? p.png({ compressionLevel: 8 })
            : p.gif();
  const { data, info } = await p.toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: animated ? (info.pageHeight ?? info.height) : info.height };
}

export const EXT_OF_FORMAT: Record<VariantPlan['format'], string> = { avif: 'avif', webp: 'webp', jpeg: 'jpg', png: 'png', gif: 'gif' };
