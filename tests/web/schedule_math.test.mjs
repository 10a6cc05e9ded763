// node --test tests/web: the front end's schedule maths, against values worked out by hand.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  evaluationSigmas, guideEvaluations, karrasSigmas, specFromWidgets, specProblem, weightAt,
} from "../../web/schedule_math.js";

test("constant and interval weights", () => {
  assert.equal(weightAt({ kind: "constant", w: 2.1 }, 3.0), 2.1);
  const iv = { kind: "interval", w: 2.0, sigma_lo: 0.28, sigma_hi: 5.42 };
  assert.equal(weightAt(iv, 5.42), 2.0);   // closed above
  assert.equal(weightAt(iv, 0.28), 1.0);   // open below
  assert.equal(weightAt(iv, 10.0), 1.0);
});

test("ramp in log sigma, halfway at the geometric mean", () => {
  const ramp = { kind: "ramp", w_start: 3, w_end: 1, sigma_start: 100, sigma_end: 1, space: "log", shape: "linear" };
  assert.ok(Math.abs(weightAt(ramp, 10) - 2) < 1e-12);
  assert.equal(weightAt(ramp, 1000), 3);
  const cosine = { ...ramp, shape: "cosine" };
  assert.ok(Math.abs(weightAt(cosine, 10) - 2) < 1e-12);
  assert.ok(weightAt(cosine, 50) > weightAt(ramp, 50));
});

test("knots written high-to-low are sorted as the node does", () => {
  const spec = specFromWidgets("AutoguidanceScheduleKnots", { sigmas: "80, 5, 1, 0.1", weights: "1.5, 2.5, 2.0, 1.0" });
  assert.deepEqual(spec.sigmas, [0.1, 1, 5, 80]);
  assert.equal(weightAt(spec, 5), 2.5);
  assert.ok(Math.abs(weightAt(spec, Math.sqrt(5)) - 2.25) < 1e-12);
  assert.equal(weightAt(spec, 1000), 1.5);
});

test("invalid schedules are reported, not drawn", () => {
  assert.match(specProblem({ kind: "interval", w: 2, sigma_lo: 3, sigma_hi: 1 }), /sigma_lo/);
  assert.match(specProblem(specFromWidgets("AutoguidanceScheduleKnots", { sigmas: "1, x", weights: "1, 2" })), /positive/);
  assert.equal(specProblem({ kind: "constant", w: 2 }), null);
});

test("EDM schedule: 32 Heun steps make 63 evaluations; the interval's count is its sigma count", () => {
  const sigmas = karrasSigmas(32, 0.002, 80);
  assert.equal(sigmas.length, 33);
  assert.ok(Math.abs(sigmas[0] - 80) < 1e-9 && Math.abs(sigmas[31] - 0.002) < 1e-12 && sigmas[32] === 0);
  const evals = evaluationSigmas(sigmas, "heun");
  assert.equal(evals.length, 63);
  const iv = { kind: "interval", w: 2.0, sigma_lo: 0.28, sigma_hi: 5.42 };
  const inside = evals.filter((s) => s > 0.28 && s <= 5.42).length;
  assert.deepEqual(guideEvaluations(iv, sigmas, "heun"), { guided: inside, total: 63 });
  assert.ok(inside > 0 && inside < 63);
  assert.deepEqual(guideEvaluations({ kind: "constant", w: 1 }, sigmas, "euler"), { guided: 0, total: 32 });
});
