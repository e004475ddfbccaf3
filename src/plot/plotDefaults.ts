// The activation plot's default interval and resolution, in a module of their own so that the CLI's
// flag table can read them without loading the renderer (vega and resvg take half a second).
export const PLOT_DEFAULTS = { from: -5, to: 5, points: 1000 } as const;

/**
 * The widest PNG actlab draws, in pixels. resvg holds the whole RGBA pixmap in memory, plus the
 * PNG encoder's copies: at 16384 px wide a chart took about 3 GB. The renderer refuses wider, and
 * the CLI's --width and --png-width flags take this same bound.
 */
export const MAX_PNG_WIDTH = 8192;
