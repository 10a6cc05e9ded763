// node --test tests/web: the server's "autoguidance.run" message → the ticks and count a plot draws,
// and the flow-family guesses the plot makes before a run.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FLOW_FAMILIES, defaultSigmasEdm, edmToFlow, familyFromName, familyInfo, flowToEdm, runSummary, sigmaRange,
} from "../../web/schedule_math.js";

const MESSAGE = {  // nodes/guide_model.py GuideTerm.report(): a 3-step heun run on a flow model
  node: 12,
  sigmas: [1.0, 0.75, 0.75, 0.5, 0.5],
  sigmas_edm: [null, 3.0, 3.0, 1.0, 1.0],  // σ = 1 is σ_edm = ∞, which JSON cannot carry
  guided: [false, true, true, true, true],
  guide_evaluations: 4,
  evaluations: 5,
};

test("a run message becomes ticks at σ_edm and the real count", () => {
  const run = runSummary(MESSAGE);
  assert.equal(run.node, "12");  // compared with String(node.id)
  assert.deepEqual(run.ticks.map((t) => t.sigmaEdm), [Infinity, 3, 3, 1, 1]);
  assert.deepEqual(run.ticks.map((t) => t.guided), MESSAGE.guided);
  assert.equal(run.ticks[1].sigma, 0.75);
  assert.equal(run.guided, 4);
  assert.equal(run.total, 5);
  assert.equal(run.text, "last run: guide runs 4/5");
});

test("counts fall back to the flags; other messages are ignored", () => {
  const { guide_evaluations, evaluations, ...bare } = MESSAGE;
  assert.equal(runSummary(bare).text, "last run: guide runs 4/5");
  assert.equal(runSummary(null), null);
  assert.equal(runSummary({ node: 3 }), null);
});

test("flow σ ↔ σ_edm", () => {
  assert.equal(flowToEdm(0.5), 1);
  assert.equal(flowToEdm(1), Infinity);
  assert.ok(Math.abs(flowToEdm(0.75) - 3) < 1e-12);
  assert.equal(edmToFlow(Infinity), 1);
  assert.ok(Math.abs(edmToFlow(flowToEdm(0.3)) - 0.3) < 1e-12);
});

test("flow families from file names, drawn on σ_edm with σ = 1 at an infinite top", () => {
  for (const f of ["sd3", "flux", "chroma", "lumina2", "qwen", "wan", "auraflow", "hunyuan", "z-image", "flux2"])
    assert.ok(FLOW_FAMILIES.includes(f), f);
  assert.equal(familyFromName("flux1-dev.safetensors"), "flux");
  assert.equal(familyFromName("flux2_klein_9b.safetensors"), "flux2");
  assert.equal(familyFromName("sd3.5_large.safetensors"), "sd3");
  assert.equal(familyFromName("wan2.1_t2v_1.3B_fp16.safetensors"), "wan");
  assert.equal(familyFromName("v1-5-pruned-emaonly.safetensors"), null);
  const flux = familyInfo("flux");
  assert.equal(flux.kind, "flow");
  assert.ok(flux.infiniteTop);
  assert.ok(Math.abs(flux.range[1] - 19 * Math.exp(1.15)) < 1e-9);  // σ_edm of t = 0.95
  assert.deepEqual(sigmaRange("sd"), [0.0292, 14.6146]);         // EPS: σ_edm = σ
  const sd3 = defaultSigmasEdm("sd3", 4);  // σ = 3t/(1 + 2t), so σ_edm = 3t/(1 − t): t = 1, .75, .5, .25
  assert.equal(sd3[0], Infinity);
  assert.ok(Math.abs(sd3[1] - 9) < 1e-9 && Math.abs(sd3[3] - 1) < 1e-9);
  assert.equal(sd3[4], 0);
});
