// What a dataset is, independent of where it lies: the sizes of its four IDX files and a SHA-256
// of their contents. A run records it in config.json and each checkpoint in its metadata, so that
// resuming on other images, or scoring a checkpoint on a set it was not made for, is refused rather
// than reported as a number. Moving the files, or compressing them, keeps the identity: the hash is
// taken over the decoded IDX bytes, which for a raw file are exactly its bytes (so `sha256sum`
// of a raw file prints the same digest).
//
// This file is the format alone, with no hashing of its own, so that the browser's Train page (which
// hashes with WebCrypto, browser/mnistFetch.ts) and Node (createHash, in mnist.ts) give the same
// identity from the same rules.
import type { IdxArray } from "./idx.js";

/** The four files of a split pair, in the order their digests are combined. */
export const DATA_FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
] as const;

export type DataFileName = (typeof DATA_FILES)[number];

export interface DataFileIdentity {
  /** Length of the decoded IDX file (header and data). */
  bytes: number;
  /** SHA-256 of the decoded IDX file, lower-case hex. */
  sha256: string;
}

export interface DataIdentity {
  /** SHA-256 over the four files' digests in DATA_FILES order: one value to compare. */
  sha256: string;
  files: Record<DataFileName, DataFileIdentity>;
}

/** A decoded IDX array's header, rebuilt exactly as the file holds it: what is hashed before its data. */
export function idxHeaderBytes(array: Pick<IdxArray, "magic" | "dims">): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * array.dims.length));
  header.setUint32(0, array.magic, false);
  array.dims.forEach((dim, i) => header.setUint32(4 + 4 * i, dim, false));
  return new Uint8Array(header.buffer);
}

/** What the combined digest is taken over: one line per file, in DATA_FILES order. */
export function combinedIdentityText(files: Record<DataFileName, DataFileIdentity>): string {
  return DATA_FILES.map((name) => `${name} ${files[name].bytes} ${files[name].sha256}\n`).join("");
}

/**
 * How `actual` differs from `recorded`, one phrase per file that differs (empty when they are the
 * same data). The phrases name the file and what changed, for a refusal that says why.
 */
export function dataDifferences(recorded: DataIdentity, actual: DataIdentity): string[] {
  if (recorded.sha256 === actual.sha256) return [];
  const differences: string[] = [];
  for (const name of DATA_FILES) {
    const was = recorded.files[name];
    const now = actual.files[name];
    if (was.bytes !== now.bytes) differences.push(`${name}: ${was.bytes} bytes recorded, ${now.bytes} here`);
    else if (was.sha256 !== now.sha256) {
      differences.push(`${name}: content differs (sha256 ${was.sha256.slice(0, 12)}… recorded, ${now.sha256.slice(0, 12)}… here)`);
    }
  }
  // The combined digest differs but no file does: the record itself was altered.
  if (differences.length === 0) differences.push(`the recorded combined sha256 does not match its own files`);
  return differences;
}
