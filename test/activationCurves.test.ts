// Every activation kernel pair on PyTorch's plotting grid: y = f(x) and the autograd derivative.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIVATION_NAMES, ACTIVATIONS, activationParam } from "../src/activations.js";
import { activationCurve } from "../src/engine/curves.js";
import { assertClose, readFixture } from "./support/fixtures.js";

interface CurveFixture {
  x: number[];
  activations: Record<string, { params: Record<string, number>; y: number[]; dydx: number[] }>;
  special_points: Record<string, Array<{ x: number; dtype: string; y: number; dydx: number }>>;
}

const curves = readFixture<CurveFixture>("activation_curves.json");
// The fixture rounds to 7 significant digits; its README suggests |a − b| ≤ 1e-6 + 1e-5·|b|.
const ATOL = 1e-6;
const RTOL = 1e-5;

describe("activation kernels match PyTorch's curves and autograd derivatives", () => {
  for (const name of ACTIVATION_NAMES) {
    it(name, () => {
      const expected = curves.activations[name];
      const x = Float32Array.from(curves.x, Math.fround);
      // The fixture's parameter (named as PyTorch names it, as the catalogue does), else the default.
      const parameter = ACTIVATIONS[name].parameter;
      const slope = activationParam(name, parameter ? expected.params[parameter.name] : undefined);
      const curve = activationCurve(name, x, slope);
      assertClose(curve.y, expected.y, ATOL, RTOL, `${name} y`);
      assertClose(curve.dydx, expected.dydx, ATOL, RTOL, `${name} dydx`);

      // Special points, exactly 0 included: the derivative PyTorch picks at a kink.
      const points = curves.special_points[name].filter((p) => p.dtype === "float32");
      assert.ok(points.some((p) => p.x === 0), "fixture has x = 0");
      const atPoints = activationCurve(name, points.map((p) => p.x), slope);
      assertClose(atPoints.y, points.map((p) => p.y), ATOL, RTOL, `${name} y at special points`);
      assertClose(atPoints.dydx, points.map((p) => p.dydx), ATOL, RTOL, `${name} dydx at special points`);
    });
  }
});
