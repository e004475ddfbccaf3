// `npm run build:site [-- <dir>]`: writes the Train page as a static site (default: site/), with the
// page modules, the kernels, Vega and MNIST (gzip-compressed) beside it. Needs `npm run build` first.
import { resolve } from "node:path";
import { writeTrainSite } from "../dist/src/serve/trainSite.js";

const dir = resolve(process.argv[2] ?? "site");
const written = writeTrainSite(dir);
console.log(`wrote ${written.length} files to ${dir}; serve the folder with any static file server and open index.html`);
