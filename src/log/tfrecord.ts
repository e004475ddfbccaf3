// TFRecord framing, the container of TensorBoard event files. Each record is
//   uint64 length (little-endian) · uint32 masked CRC32C of those 8 bytes · data · uint32 masked CRC32C of data
// and the CRCs are "masked" (rotated and offset) because TensorFlow found that CRCs of data that
// itself embeds CRCs are weak; the mask is part of the format, so readers must undo the same one.
import crc32c from "crc-32/crc32c.js";
import { InputError } from "../errors.js";

const MASK_DELTA = 0xa282ead8;
const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

/** CRC32C (Castagnoli) as an unsigned 32-bit integer. */
export function crc32cOf(bytes: Uint8Array): number {
  return crc32c.buf(bytes) >>> 0;
}

/** TensorFlow's masked CRC32C: rotate right by 15 bits, then add a constant, mod 2^32. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32cOf(bytes);
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}

/** One framed record, ready to append to a file. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + data.length + FOOTER_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + data.length, maskedCrc32c(data), true);
  return out;
}

export interface SplitOptions {
  /**
   * Accept a final record cut short (a file still being written, or a writer killed mid-append)
   * by dropping it. CRC mismatches are refused either way.
   */
  allowTruncatedTail?: boolean;
}

/**
 * Splits a TFRecord byte stream into record payloads (views into `bytes`, no copies), checking
 * both CRCs of every record. Lengths are checked against the bytes actually present before
 * anything is sliced, so a corrupt header can never make us allocate or read past the end.
 */
export function splitRecords(bytes: Uint8Array, source: string, options: SplitOptions = {}): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const where = `${source}: record ${records.length} at byte ${offset}`;
    const left = bytes.length - offset;
    if (left < HEADER_BYTES) {
      if (options.allowTruncatedTail) break;
      throw new InputError(`${where}: truncated header (${left} bytes left, ${HEADER_BYTES} needed)`);
    }
    const lengthCrc = view.getUint32(offset + 8, true);
    if (maskedCrc32c(bytes.subarray(offset, offset + 8)) !== lengthCrc) {
      throw new InputError(`${where}: length CRC mismatch (corrupt header)`);
    }
    const length = view.getBigUint64(offset, true);
    const available = BigInt(left - HEADER_BYTES - FOOTER_BYTES);
    if (length > available) {
      if (options.allowTruncatedTail) break;
      throw new InputError(
        `${where}: truncated record (header claims ${length} data bytes, ${available < 0n ? 0n : available} present)`,
      );
    }
    const start = offset + HEADER_BYTES;
    const end = start + Number(length);
    const data = bytes.subarray(start, end);
    if (maskedCrc32c(data) !== view.getUint32(end, true)) {
      throw new InputError(`${where}: data CRC mismatch (corrupt record)`);
    }
    records.push(data);
    offset = end + FOOTER_BYTES;
  }
  return records;
}
