// The activation plot's default interval and resolution, in a module of their own so that the CLI's
// flag table can read them without loading the renderer (vega and resvg take half a second).
export const PLOT_DEFAULTS = { from: -5, to: 5, points: 1000 } as const;
