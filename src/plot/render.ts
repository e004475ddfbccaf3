// Vega-Lite spec → SVG (vega's headless view) → PNG (resvg). No browser and no canvas: the SVG is
// the one rendering, and the PNG is a rasterisation of exactly that SVG.
import { Resvg } from "@resvg/resvg-js";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

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
  const resvg = new Resvg(svg, {
    fitTo: width === undefined ? { mode: "zoom", value: 2 } : { mode: "width", value: width },
    font: { loadSystemFonts: true, defaultFontFamily: RASTER_FONT, sansSerifFamily: RASTER_FONT },
    background: "white",
    logLevel: "off",
  });
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
