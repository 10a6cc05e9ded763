// The plot's maths, no DOM, no ComfyUI (tests/web runs it under node against the Python): which nodes plot,
// from their /object_info schemas; the twins of nodes/schedule_widgets.py (widget values → spec) and of
// guidance/schedules.py (checks, w(σ)); the σ a sampler visits; the one guess, a model's family.

import { evaluationSigmas } from "./sampler_evaluations.js";

/** Facts the Python side shares (held equal by tests/web/test_front_end_facts.py). */
export const RUN_EVENT = "autoguidance.run";  // nodes/guide_term.py RUN_EVENT
export const PLOT_HEIGHT = 132;              // tools/build_workflows.py PLOT_HEIGHT (the boxes' room)
const SCHEDULE = "GUIDANCE_SCHEDULE";
const WIDGET_TYPES = new Set(["FLOAT", "INT", "STRING", "BOOLEAN", "COMBO"]);

/** What a node's schema (an /object_info entry) makes it for the plots: a schedule node ({widgets:
 *  its widget names in schema order, limit: it restricts an input schedule}), a node applying schedules
 *  to a sampler ({guided: true, cfg: it has a CFG schedule}), or null. */
export function plotRole(nodeData) {
  const inputs = { ...nodeData?.input?.required, ...nodeData?.input?.optional };
  const outputs = nodeData?.output ?? [];
  const widgets = Object.keys(inputs).filter((n) => Array.isArray(inputs[n][0]) || WIDGET_TYPES.has(inputs[n][0]));
  if (outputs.includes(SCHEDULE)) return { widgets, limit: inputs.schedule?.[0] === SCHEDULE };
  if (inputs.schedule?.[0] === SCHEDULE && outputs.some((o) => o === "GUIDER" || o === "MODEL"))
    return { guided: true, cfg: inputs.cfg_schedule?.[0] === SCHEDULE };
  return null;
}

// One noise scale: schedules are written in σ_edm, the noise-to-signal ratio (guidance/noise_scale.py):
// ComfyUI's σ for EPS / V / EDM models ("ve"), σ/(1 − σ) for flow models (σ = 1, pure noise, → ∞).

export const flowToEdm = (sigma) => (sigma >= 1 ? Infinity : sigma / (1 - sigma));
export const toEdm = (kind, sigma) => (kind === "flow" ? flowToEdm(sigma) : sigma);

// The one guess. Nothing the server publishes before a run says which family a checkpoint holds
// (ComfyUI reads that from the weights when it loads them), so the plot guesses it from the loader's
// widget and file name, first match wins; the σ steps a run reports (RUN_EVENT) replace the guess.
// A flow family's σ(t) is its ComfyUI model sampling (comfy/model_sampling.py, defaults of
// comfy/supported_models.py 0.3.64): `shift` s, ModelSamplingDiscreteFlow (σ = s·t/(1 + (s − 1)·t),
// 1000 levels), or `mu` μ, ModelSamplingFlux (σ = e^μ/(e^μ + 1/t − 1), 10000 levels).
const FAMILIES = [  // [family, "<widget>:<file>" pattern, σ]
  ["flux", /flux|klein|chroma/, { mu: 1.15 }],  // Flux.1, Flux.2, Chroma
  ["sd3", /sd3|sd_3|sd[._-]?3\.5|stable[._-]?diffusion[._-]?3|z[._-]?image/, { shift: 3.0 }],  // SD3, Z-Image
  ["auraflow", /aura/, { shift: 1.73 }],
  ["lumina2", /lumina/, { shift: 6.0 }],
  ["qwen", /qwen/, { shift: 1.15 }],
  ["wan", /\bwan|wan[._-]?2/, { shift: 8.0 }],
  ["hunyuan", /hunyuan/, { shift: 7.0 }],
  ["sd", /^(ckpt|unet)_name:/, { range: [0.0292, 14.6146] }],  // other ComfyUI checkpoints: SD1.5 / SDXL
  ["edm2", /(?:)/, { range: [0.002, 80.0] }],  // the EDM2 loader's files, or no model connected
];
export const MODEL_FILE_WIDGETS = ["ckpt_name", "unet_name", "checkpoint"];
export const DEFAULT_SAMPLER = { sampler: "heun", steps: 32 };  // no sampler connected: EDM2's own

/** The family a loader's file widget points at ("edm2" with no loader). */
export function familyOf(file = "", widget = "checkpoint") {
  const key = `${widget}:${file}`.toLowerCase();
  return FAMILIES.find(([, re]) => re.test(key))[0];
}

const sigmaOf = (family) => (FAMILIES.find(([f]) => f === family) ?? FAMILIES.at(-1))[2];

/** σ(t) of a flow family's model sampling at t ∈ (0, 1], and its number of levels. */
const flowSigma = (f, t) => (f.mu !== undefined ? Math.exp(f.mu) / (Math.exp(f.mu) + (1 / t - 1))
  : (f.shift * t) / (1 + (f.shift - 1) * t));
const levelsOf = (f) => (f.mu !== undefined ? 10000 : 1000);

/** A flow family's ComfyUI "simple" scheduler: σ(t) at t = 1 − ⌊i·L/N⌋/L, i < N, then 0
 *  (comfy/samplers.py simple_scheduler over the family's L-level table). */
export function flowSimpleSigmas(family, steps) {
  const f = sigmaOf(family), levels = levelsOf(f);
  const t = (i) => (levels - Math.floor((i * levels) / steps)) / levels;
  return Array.from({ length: steps }, (_, i) => flowSigma(f, t(i))).concat(0);
}

/** {kind, range: [σ_edm min, σ_edm max drawn], infiniteTop} of a family (EDM2's when unknown). A flow
 *  model's top σ = 1 is σ_edm = ∞: the axis ends at the 2nd level of a 20-step schedule. */
export function familyInfo(family) {
  const f = sigmaOf(family);
  if (f.range) return { kind: "ve", range: f.range, infiniteTop: false };
  const edge = (t) => flowToEdm(flowSigma(f, t));
  return { kind: "flow", range: [edge(1 / levelsOf(f)), edge(1 - 1 / 20)], infiniteTop: true };
}

/** A scheduler's native σ list on a family, `known` where it is what the sampler will use: the family's
 *  "simple" schedule on flow models, else karras (or exponential) over the family's range. */
export function schedulerSigmas(family, scheduler, steps) {
  const f = sigmaOf(family);
  if (!f.range) return { sigmas: flowSimpleSigmas(family, steps), known: scheduler === "simple" };
  const make = scheduler === "exponential" ? exponentialSigmas : karrasSigmas;
  return { sigmas: make(steps, ...f.range), known: scheduler === "karras" || scheduler === "exponential" };
}

// Widget values → spec (schedule_widgets.schedule_spec) and the spec's checks (guidance/schedules.py's
// __post_init__ rules, in their order). A problem is thrown as the Python message up to its first
// " (", which is what the plot shows. The kind follows from the widget names (schedule_widgets.WIDGETS).

const KIND_BY_WIDGET = [["sigmas", "knots"], ["w_start", "ramp"], ["sigma_lo", "interval"], ["w", "constant"]];
const TEXT_WIDGETS = new Set(["space", "shape", "sigmas", "weights"]);
const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const pyList = (items) => `[${items.map((s) => `'${s}'`).join(", ")}]`;
const fail = (where, what) => { throw new Error(`${where}: ${what}`); };
const number = (where, name, v) => (typeof v === "number" ? v : fail(where, `${name} must be a number`));
const finite = (where, name, v) => (Number.isFinite(number(where, name, v)) ? v
  : fail(where, `${name} must be finite`));

/** "80, 5, 1" → [80, 5, 1] (commas, semicolons or new lines between); throws for anything else. */
function parseNumbers(where, field, text) {
  const parts = typeof text === "string" ? text.split(/[,;\n]/).filter((p) => p.trim()) : null;
  if (parts === null || !parts.every((p) => NUMBER.test(p)))
    fail(where, `'${field}' must be numbers separated by commas, e.g. 80, 5, 1, 0.1`);
  return parts.map(Number);
}

/** The spec the values of a schedule node with these widget names stand for (`inner`: what feeds a
 *  Limit node); null for no schedule widgets. */
export function specFromWidgets(names, values, inner = null) {
  const kind = KIND_BY_WIDGET.find(([n]) => names?.includes(n))?.[1];
  if (!kind) return null;
  const where = `${kind} schedule`;
  const missing = names.filter((n) => !(n in values));
  if (missing.length) fail(where, `missing widget value(s) ${pyList(missing)}`);
  const v = Object.fromEntries(names.map((n) => [n, TEXT_WIDGETS.has(n) ? values[n] : number(where, n, values[n])]));
  if (kind === "knots")
    return { kind, sigmas: parseNumbers(where, "sigmas", v.sigmas),
             weights: parseNumbers(where, "weights", v.weights) };
  if (kind === "interval" && !("w" in v))  // a Limit node: w = 1 (NO_GUIDANCE) while its input is unknown
    return { kind, schedule: inner ?? { kind: "constant", w: 1.0 }, ...v };
  return { kind, ...v };
}

function sigmaValue(where, name, v, positive = false) {
  if (finite(where, name, v) < 0 || (positive && v === 0))
    fail(where, `${name} must be a noise level with σ ${positive ? ">" : "≥"} 0`);
  return v;
}

/** Knots in increasing σ: a list written high σ first is reversed with its weights. */
function knotsIncreasing(sigmas, weights) {
  const decreasing = sigmas.length > 1 && sigmas.every((x, i) => i === 0 || sigmas[i - 1] > x);
  return decreasing ? [[...sigmas].reverse(), [...weights].reverse()] : [sigmas, weights];
}

const CHECKS = {
  constant: (d) => finite("constant schedule", "w", d.w),
  interval(d) {
    if (d.schedule) check(d.schedule); else finite("constant schedule", "w", d.w);
    const where = "interval schedule";
    if (sigmaValue(where, "sigma_lo", d.sigma_lo) >= sigmaValue(where, "sigma_hi", d.sigma_hi))
      fail(where, "sigma_lo must be below sigma_hi");
  },
  ramp(d) {
    const where = "ramp schedule", log = d.space === "log";
    finite(where, "w_start", d.w_start);
    finite(where, "w_end", d.w_end);
    for (const [name, allowed] of [["space", ["log", "linear"]], ["shape", ["linear", "cosine"]]])
      if (!allowed.includes(d[name])) fail(where, `${name} must be one of ${pyList(allowed)}`);
    if (sigmaValue(where, "sigma_start", d.sigma_start, log) === sigmaValue(where, "sigma_end", d.sigma_end, log))
      fail(where, "sigma_start and sigma_end must differ");
  },
  knots(d) {
    const where = "knots schedule";
    d.sigmas.forEach((v, i) => sigmaValue(where, `sigmas[${i}]`, v, true));
    d.weights.forEach((v, i) => finite(where, `weights[${i}]`, v));
    if (!d.sigmas.length) fail(where, "sigmas is empty; give at least one knot");
    if (d.sigmas.length !== d.weights.length) fail(where, "sigmas and weights must have the same length");
    const [s] = knotsIncreasing(d.sigmas, d.weights);
    if (s.some((x, i) => i > 0 && x <= s[i - 1])) fail(where, "sigmas must be strictly increasing or decreasing");
  },
};

function check(spec) {
  if (!spec || typeof spec !== "object") fail("schedule", "expected a dict with a 'kind' field");
  if (!(spec.kind in CHECKS))
    fail("schedule", `unknown kind '${spec.kind}'; valid kinds: ${pyList(Object.keys(CHECKS))}`);
  CHECKS[spec.kind](spec);
}

/** Why a spec is not a valid schedule (schedule_from_dict's message), or null. */
export function specProblem(spec) {
  try { check(spec); return null; } catch (err) { return err.message; }
}

/** A schedule node's spec and the reason it is refused (as schedule_from_widgets raises), one of them null. */
export function scheduleFromWidgets(names, values, inner = null) {
  let spec;
  try { spec = specFromWidgets(names, values, inner); } catch (err) { return { spec: null, problem: err.message }; }
  return { spec, problem: spec ? specProblem(spec) : null };
}

// w(σ) (guidance/schedules.py; Python works in float32, this in float64).

const clamp = (x, lo, hi) => Math.min(Math.max(x, lo), hi);

/** w(σ) of a valid schedule spec ({kind, ...} as in Schedule.to_dict()). */
export function weightAt(spec, sigma) {
  switch (spec.kind) {
    case "constant": return spec.w;
    case "interval": {
      // (σ_lo, σ_hi] compared in float32, as the sampler holds σ (see Interval.contains).
      const s = Math.fround(sigma);
      const inside = s > Math.fround(spec.sigma_lo) && s <= Math.fround(spec.sigma_hi);
      return inside ? weightAt(spec.schedule ?? { kind: "constant", w: spec.w }, sigma) : 1.0;
    }
    case "ramp": {
      const f = spec.space === "log" ? Math.log : (v) => v;
      let t = clamp((f(sigma) - f(spec.sigma_start)) / (f(spec.sigma_end) - f(spec.sigma_start)), 0, 1);
      if (spec.shape === "cosine") t = (1 - Math.cos(Math.PI * t)) / 2;
      return spec.w_start + (spec.w_end - spec.w_start) * t;
    }
    case "knots": {
      const [s, w] = knotsIncreasing(spec.sigmas, spec.weights);
      if (s.length === 1) return w[0];
      const ls = Math.log(clamp(sigma, s[0], s[s.length - 1]));
      let i = 1;
      while (i < s.length - 1 && Math.log(s[i]) <= ls) i++;
      const x0 = Math.log(s[i - 1]), x1 = Math.log(s[i]);
      return w[i - 1] + (w[i] - w[i - 1]) * ((ls - x0) / (x1 - x0));
    }
    default:
      return fail("schedule", `unknown kind '${spec.kind}'`);
  }
}

// Noise levels a sampler visits: N levels from σ_max down to σ_min, then 0. Karras: EDM eq. 5 (karras_sigmas
// in Python); exponential: log-even (ComfyUI's "exponential" scheduler).

const levels = (steps, at) => Array.from({ length: steps }, (_, i) => at(steps > 1 ? i / (steps - 1) : 0)).concat(0);

export function karrasSigmas(steps, sigmaMin, sigmaMax, rho = 7.0) {
  const lo = sigmaMin ** (1 / rho), hi = sigmaMax ** (1 / rho);
  return levels(steps, (t) => (hi + t * (lo - hi)) ** rho);
}

export function exponentialSigmas(steps, sigmaMin, sigmaMax) {
  const lo = Math.log(sigmaMin), hi = Math.log(sigmaMax);
  return levels(steps, (t) => Math.exp(hi + t * (lo - hi)));
}

/** How many evaluations run the guide (w(σ) ≠ 1) out of all the sampler makes; nulls for an
 *  adaptive sampler, whose evaluations are not known before it runs. */
export function guideEvaluations(spec, sigmas, sampler = "heun") {
  const evals = evaluationSigmas(sigmas, sampler);
  if (evals === null) return { guided: null, total: null };
  return { guided: evals.filter((s) => weightAt(spec, s) !== 1.0).length, total: evals.length };
}

// The last run, as the server reports it (nodes/guide_term.py RUN_EVENT).

/** The ticks and count a plot draws for one RUN_EVENT message: {node, ticks: [{sigmaEdm, guided}],
 *  guided, total, text}; null for a message that is not one. σ_edm = ∞ arrives as null. */
export function runSummary(message) {
  if (message?.node == null || !Array.isArray(message.sigmas_edm)) return null;
  const ticks = message.sigmas_edm.map((s, i) => ({
    sigmaEdm: typeof s === "number" ? s : Infinity, guided: Boolean(message.guided?.[i]) }));
  const guided = message.guide_evaluations ?? ticks.filter((t) => t.guided).length;
  const total = message.evaluations ?? ticks.length;
  return { node: String(message.node), ticks, guided, total, text: `last run: guide runs ${guided}/${total}` };
}
