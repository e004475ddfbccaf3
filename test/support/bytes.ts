// Crafted and damaged files for the readers' tests: IDX files built by hand, and the byte-level
// mutations every strict reader must survive (each format's tests add its own header mutations).
import fc from "fast-check";

/** An IDX file: zero magic bytes, the type code, the rank, big-endian dimensions, then the data. */
export function craftIdx(dims: number[], data: Uint8Array, typeCode = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

export type Mutation = (bytes: Uint8Array) => Uint8Array;

/** A flipped byte, a cut at any length, or up to `maxExtra` bytes appended. */
export function byteMutations(maxExtra: number): Array<fc.Arbitrary<Mutation>> {
  return [
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, xor]): Mutation => (bytes) => {
      const out = Uint8Array.from(bytes);
      if (out.length > 0) out[at % out.length] ^= xor;
      return out;
    }),
    fc.nat().map((keep): Mutation => (bytes) => bytes.slice(0, keep % (bytes.length + 1))),
    fc.uint8Array({ minLength: 1, maxLength: maxExtra }).map((extra): Mutation => (bytes) => {
      const out = new Uint8Array(bytes.length + extra.length);
      out.set(bytes);
      out.set(extra, bytes.length);
      return out;
    }),
  ];
}
