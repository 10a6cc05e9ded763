// node --test tests/web: the server's "autoguidance.run" message → the ticks and count a plot draws,
// and the flow-family guesses the plot makes before a run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { familyInfo, familyOf, flowToEdm, runSummary, schedulerSigmas } from "../../web/schedule_math.js";

const MESSAGE = {  // nodes/guide_term.py GuideTerm.report(): a 3-step heun run on a flow model
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
});

test("families from loader file names, flow ones drawn on σ_edm with σ = 1 at an infinite top", () => {
  for (const f of ["sd3", "flux", "lumina2", "qwen", "wan", "auraflow", "hunyuan"]) assert.equal(familyInfo(f).kind, "flow", f);
  assert.equal(familyOf("flux1-dev.safetensors", "unet_name"), "flux");
  assert.equal(familyOf("flux2_klein_9b.safetensors", "unet_name"), "flux");  // Flux.2: Flux.1's σ
  assert.equal(familyOf("chroma-unlocked-v35.safetensors", "unet_name"), "flux");
  assert.equal(familyOf("z_image_turbo_bf16.safetensors", "unet_name"), "sd3");  // shift 3, as SD3
  assert.equal(familyOf("sd3.5_large.safetensors", "ckpt_name"), "sd3");
  assert.equal(familyOf("wan2.1_t2v_1.3B_fp16.safetensors", "unet_name"), "wan");
  assert.equal(familyOf("v1-5-pruned-emaonly.safetensors", "ckpt_name"), "sd");  // any other ComfyUI checkpoint
  assert.equal(familyOf("digits-main.safetensors", "checkpoint"), "edm2");       // the EDM2 loader
  assert.equal(familyOf(), "edm2");                                               // no model connected
  const flux = familyInfo("flux");
  assert.equal(flux.kind, "flow");
  assert.ok(flux.infiniteTop);
  assert.ok(Math.abs(flux.range[1] - 19 * Math.exp(1.15)) < 1e-9);  // σ_edm of t = 0.95
  assert.deepEqual(familyInfo("sd").range, [0.0292, 14.6146]);   // EPS: σ_edm = σ
  const sd3 = schedulerSigmas("sd3", "simple", 4).sigmas.map(flowToEdm);  // σ = 3t/(1 + 2t): σ_edm = 3t/(1 − t)
  assert.equal(sd3[0], Infinity);
  assert.ok(Math.abs(sd3[1] - 9) < 1e-9 && Math.abs(sd3[3] - 1) < 1e-9);
  assert.equal(sd3[4], 0);
});
