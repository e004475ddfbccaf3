// Vega-Lite spec → SVG (vega's headless view) → PNG (resvg). No browser and no canvas: the SVG is
// the one rendering, and the PNG is a rasterisation of exactly that SVG.
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.js";
import { MAX_PNG_WIDTH } from "./plotDefaults.js";

export { MAX_PNG_WIDTH };
/** The most pixels in one PNG (width × height): 8192 × 8192, a 256 MB pixmap, whatever the aspect. */
export const MAX_PNG_PIXELS = 8192 * 8192;

/**
 * Charts name a family list so that browsers pick a font they have, and resvg is told a concrete
 * default: without a font it can find, resvg silently drops every label from the PNG.
 * Debian's fonts-dejavu-core provides DejaVu Sans.
 */
export const CHART_FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";
const RASTER_FONT = "DejaVu Sans";

/** Settings shared by every chart actlab draws. */
export const CHART_CONFIG = {
  font: CHART_FONT,
  background: "white",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 13, labelFontWeight: "bold" },
  title: { fontSize: 15 },
} as const;

export async function renderSvg(vegaLiteSpec: TopLevelSpec): Promise<string> {
  const { spec } = compile(vegaLiteSpec);
  const view = new View(parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG; `width` in pixels (the height follows the aspect), default twice the SVG's own size. */
export function renderPng(svg: string, width?: number): Uint8Array {
  if (width !== undefined) checkPngWidth(width);
  const resvg = new Resvg(svg, {
    fitTo: width === undefined ? { mode: "zoom", value: 2 } : { mode: "width", value: width },
    font: { loadSystemFonts: true, defaultFontFamily: RASTER_FONT, sansSerifFamily: RASTER_FONT },
    background: "white",
    logLevel: "off",
  });
  // Parsing is cheap; the pixmap is what is large. resvg's width and height are the SVG's own size.
  checkPngPixels(width ?? Math.ceil(resvg.width * 2), Math.ceil(width === undefined ? resvg.height * 2 : (resvg.height * width) / resvg.width));
  return new Uint8Array(resvg.render().asPng());
}

/** The size an SVG declares on its root element (vega writes width and height in pixels). */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
  const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1]);
  if (!Number.isFinite(width) || !Number.isFinite(height)) throw new Error("the SVG declares no width and height");
  return { width, height };
}

/** @throws InputError for a PNG width that is not a whole number from 1 to MAX_PNG_WIDTH, naming the limit. */
export function checkPngWidth(width: number): void {
  if (!(Number.isInteger(width) && width >= 1)) throw new InputError(`PNG width must be a whole number of pixels ≥ 1; got ${width}`);
  if (width > MAX_PNG_WIDTH) throw new InputError(`PNG width ${width} px is over the limit of ${MAX_PNG_WIDTH} px (--width, --png-width)`);
}

/** @throws InputError, before any pixel is allocated, for a PNG wider than MAX_PNG_WIDTH or larger than MAX_PNG_PIXELS. */
export function checkPngPixels(width: number, height: number): void {
  if (width > MAX_PNG_WIDTH || width * height > MAX_PNG_PIXELS) {
    throw new InputError(`a PNG of ${width} × ${height} px is over the limit of ${MAX_PNG_WIDTH} px wide and ${MAX_PNG_PIXELS} pixels in all (--width, --png-width)`);
  }
}
