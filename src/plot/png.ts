// Just enough of PNG to check an image we wrote: the signature, the header, and that the image data
// inflates to exactly one filtered scanline per row (so the file decodes, not merely starts well).
import { inflateSync } from "node:zlib";
import { MAX_PNG_PIXELS, MAX_PNG_WIDTH } from "./render.js";

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** 2 = RGB, 6 = RGBA, ... as the PNG specification numbers them. */
  colorType: number;
  /** The inflated image data: `height` rows, each a filter byte and then the row's bytes. */
  scanlines: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function readPng(bytes: Uint8Array): PngInfo {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error("not a PNG: the signature is missing");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let header: Omit<PngInfo, "scanlines"> | undefined;
  const data: Uint8Array[] = [];
  let ended = false;
  while (offset + 12 <= bytes.length && !ended) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length) throw new Error(`PNG chunk ${type} is truncated`);
    if (type === "IHDR") {
      header = { width: view.getUint32(offset + 8), height: view.getUint32(offset + 12), bitDepth: body[8], colorType: body[9] };
    } else if (type === "IDAT") {
      data.push(body);
    } else if (type === "IEND") {
      ended = true;
    }
    offset += 12 + length;
  }
  if (!header) throw new Error("PNG has no IHDR chunk");
  if (!ended) throw new Error("PNG has no IEND chunk");
  const channels = CHANNELS[header.colorType];
  if (channels === undefined) throw new Error(`PNG colour type ${header.colorType} is not valid`);
  // A header may claim any size: refuse past the sizes actlab draws before inflating anything, and
  // never inflate more than the header's rows (a small zlib stream can expand without limit).
  if (header.width > MAX_PNG_WIDTH || header.width * header.height > MAX_PNG_PIXELS) {
    throw new Error(`PNG of ${header.width} × ${header.height} px is over the limit of ${MAX_PNG_WIDTH} px wide and ${MAX_PNG_PIXELS} pixels`);
  }
  const rowBytes = 1 + Math.ceil((header.width * channels * header.bitDepth) / 8);
  let scanlines: Uint8Array;
  try {
    scanlines = new Uint8Array(inflateSync(Buffer.concat(data), { maxOutputLength: rowBytes * header.height + 1 }));
  } catch (error) {
    throw new Error(`PNG image data does not inflate to ${header.height} rows of ${rowBytes} bytes (${(error as Error).message})`);
  }
  if (scanlines.length !== rowBytes * header.height) {
    throw new Error(`PNG image data inflates to ${scanlines.length} bytes, not ${header.height} rows of ${rowBytes}`);
  }
  return { ...header, scanlines };
}
