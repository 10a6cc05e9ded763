// node --test tests/web: the front end's schedule maths, against values worked out by hand.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  familyInfo, guideEvaluations, karrasSigmas, scheduleFromWidgets, specFromWidgets, specProblem, weightAt,
} from "../../web/schedule_math.js";
import { evaluationSigmas } from "../../web/sampler_evaluations.js";

const KNOTS = ["sigmas", "weights"];  // a schedule node's widget names, as its schema lists them
const RAMP = ["w_start", "w_end", "sigma_start", "sigma_end", "space", "shape"];

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

test("knots in either order give the same curve", () => {
  const down = specFromWidgets(KNOTS, { sigmas: "80, 5, 1, 0.1", weights: "1.5, 2.5, 2.0, 1.0" });
  const up = specFromWidgets(KNOTS, { sigmas: "0.1; 1; 5; 80", weights: "1.0; 2.0; 2.5; 1.5" });
  assert.deepEqual(down.sigmas, [80, 5, 1, 0.1]);  // the spec keeps what was written
  for (const s of [0.05, 0.3, Math.sqrt(5), 5, 30, 1000]) assert.equal(weightAt(down, s), weightAt(up, s));
  assert.equal(weightAt(down, 5), 2.5);
  assert.ok(Math.abs(weightAt(down, Math.sqrt(5)) - 2.25) < 1e-12);
  assert.equal(weightAt(down, 1000), 1.5);
});

test("invalid schedules are reported, not drawn", () => {
  assert.match(specProblem({ kind: "interval", w: 2, sigma_lo: 3, sigma_hi: 1 }), /^interval schedule: sigma_lo must be below/);
  assert.match(scheduleFromWidgets(KNOTS, { sigmas: "1, x", weights: "1, 2" }).problem,
               /^knots schedule: 'sigmas' must be numbers/);
  // A log ramp cannot reach σ = 0 (log 0 = −∞): refused, as the node refuses it.
  const toZero = { w_start: 3, w_end: 1, sigma_start: 14.6, sigma_end: 0, space: "log", shape: "linear" };
  assert.match(scheduleFromWidgets(RAMP, toZero).problem, /sigma_end must be a noise level with σ > 0/);
  assert.equal(scheduleFromWidgets(RAMP, { ...toZero, space: "linear" }).problem, null);
  assert.equal(specProblem({ kind: "constant", w: 2 }), null);
  assert.equal(specFromWidgets(null, {}), null);  // not a schedule node
});

test("sigma range lookup: one function, EDM2's range by default", () => {
  assert.deepEqual(familyInfo("edm2").range, [0.002, 80.0]);
  assert.deepEqual(familyInfo("nonsense"), familyInfo("edm2"));
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

test("midpoint samplers: a step whose ends are outside the interval can still run the guide once", () => {
  const sigmas = [16, 4, 1, 0];
  // dpm_2 evaluates at 16, 8 (√(16·4)), 4, 2, 1: the interval (6, 10] holds only the midpoint 8.
  assert.deepEqual(evaluationSigmas(sigmas, "dpm_2").map((s) => +s.toFixed(9)), [16, 8, 4, 2, 1]);
  assert.deepEqual(guideEvaluations({ kind: "interval", w: 2, sigma_lo: 6, sigma_hi: 10 }, sigmas, "dpm_2"),
                   { guided: 1, total: 5 });
  assert.deepEqual(guideEvaluations({ kind: "constant", w: 2 }, sigmas, "dpm_adaptive"), { guided: null, total: null });
  assert.equal(evaluationSigmas(sigmas, "some_other_packs_sampler").length, 3);  // assumed once per step
});
