// The σ of every model call each ComfyUI sampler makes on a σ list (N + 1 levels); each call's own w(σ)
// decides whether the guide runs. tests/web/test_sampler_evaluations.py records every sampler of SAMPLER_NAMES
// (0.3.64, 0.33.0) on a tiny model. Flow models put a few midpoints at half log-SNR, which log σ approximates.

const logLerp = (a, b, t) => Math.exp(Math.log(a) + t * (Math.log(b) - Math.log(a)));

/** Calls in step i: at σ_i, then at log-σ fractions `ts` of the way to `to` (σ_{i+1}); once into σ = 0. */
const within = (s, i, ts, to = s[i + 1]) => (s[i + 1] > 0 ? [s[i], ...ts.map((t) => logLerp(s[i], to, t))] : [s[i]]);

/** One step σ_i → σ_{i+1}: the σ of each model call (`s` is the whole list, `i` the step). */
const STEP_RULES = {
  once: (s, i) => [s[i]],
  heun: (s, i) => (s[i + 1] > 0 ? [s[i], s[i + 1]] : [s[i]]),  // the corrector at σ_{i+1}
  // Heun++: σ_{i+1} and σ_{i+2}; Heun when σ_{i+2} ends the list, Euler when σ_{i+1} does.
  heunpp2: (s, i) => s.slice(i, Math.min(i + 3, s.length - 1)),
  midpoint: (s, i) => within(s, i, [0.5]),
  thirds: (s, i) => within(s, i, [1 / 3, 2 / 3]),
  // Ancestral (eta = 1): the midpoint towards σ_down = σ_{i+1}²/σ_i, which is σ_{i+1} itself.
  ancestral: (s, i) => within(s, i, [0.5], s[i + 1] ** 2 / s[i]),
  pece: (s, i) => (i > 0 ? [s[i], s[i]] : [s[i]]),  // the corrected state is evaluated again at σ_i
};

/** DPM-Solver "fast": len(sigmas) − 1 calls on its own log-even grid from σ_max to the last σ > 0,
 *  in steps of order 3 (calls at t, t + h/3, t + 2h/3 in t = −log σ), ending with order 2 and/or 1. */
function dpmFast(sigmas) {
  const n = sigmas.length - 1;
  if (n < 1) return [];
  const tStart = -Math.log(sigmas[0]), tEnd = -Math.log(sigmas[n] > 0 ? sigmas[n] : sigmas[n - 1]);
  const m = Math.floor(n / 3) + 1, h = (tEnd - tStart) / m;
  const orders = n % 3 === 0 ? [...Array(m - 2).fill(3), 2, 1] : [...Array(m - 1).fill(3), n % 3];
  return orders.flatMap((order, i) => Array.from({ length: order }, (_, k) => Math.exp(-tStart - (i + k / order) * h)));
}

/** Samplers that call the model more than once per step, by rule; every other name calls it once
 *  ("adaptive": how many calls depends on the model's output). */
const RULES = {
  heun: ["heun", "exp_heun_2_x0", "exp_heun_2_x0_sde"], heunpp2: ["heunpp2"], thirds: ["seeds_3"],
  midpoint: ["dpm_2", "dpmpp_sde", "dpmpp_sde_gpu", "seeds_2"], pece: ["sa_solver_pece"],
  ancestral: ["dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp"],
  dpm_fast: ["dpm_fast"], adaptive: ["dpm_adaptive"],
};
export const SAMPLER_RULE = Object.fromEntries(
  Object.entries(RULES).flatMap(([rule, names]) => names.map((n) => [n, rule])));

/** The σ of every model call `sampler` makes on `sigmas`; null for an adaptive sampler. */
export function evaluationSigmas(sigmas, sampler = "heun") {
  const rule = SAMPLER_RULE[sampler] ?? "once";
  if (rule === "adaptive") return null;
  if (rule === "dpm_fast") return dpmFast(sigmas);
  return sigmas.slice(0, -1).flatMap((_, i) => STEP_RULES[rule](sigmas, i));
}
