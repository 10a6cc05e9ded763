// Where each of ComfyUI's samplers evaluates the model: the σ of every call it makes on a σ list
// (N + 1 levels). Covers every name in comfy.samplers.SAMPLER_NAMES of ComfyUI 0.3.64 and
// 0.33.0; tests/web/test_sampler_evaluations.py runs each sampler in ComfyUI on a tiny model,
// records the σ of every model call and compares. No DOM, no ComfyUI.
//
// Second evaluations inside a step sit at σ_{i+1} (Heun), at the midpoint of the step in log σ
// (dpm_2, dpmpp_sde, seeds_2; thirds for seeds_3) or at σ_i again (sa_solver_pece's corrector).
// The widget looks up w(σ) at each of them, so a midpoint inside the guided interval counts as
// a guide run even when both ends of its step are outside. Counts hold for every model family;
// on flow models a few midpoints sit at the half-log-SNR midpoint, which log σ approximates.

const logLerp = (a, b, t) => Math.exp(Math.log(a) + t * (Math.log(b) - Math.log(a)));

/** One step σ_i → σ_{i+1}: the σ of each model call (`s` is the whole list, `i` the step). */
const STEP_RULES = {
  once: (s, i) => [s[i]],
  // Heun: the corrector at σ_{i+1}; Euler on the step into σ = 0.
  heun: (s, i) => (s[i + 1] > 0 ? [s[i], s[i + 1]] : [s[i]]),
  // Heun++: σ_{i+1} and σ_{i+2}; Heun when σ_{i+2} ends the list, Euler when σ_{i+1} does.
  heunpp2: (s, i) => {
    const end = s[s.length - 1];
    if (s[i + 1] === end) return [s[i]];
    return s[i + 2] === end ? [s[i], s[i + 1]] : [s[i], s[i + 1], s[i + 2]];
  },
  midpoint: (s, i) => (s[i + 1] > 0 ? [s[i], logLerp(s[i], s[i + 1], 0.5)] : [s[i]]),
  thirds: (s, i) => (s[i + 1] > 0 ? [s[i], logLerp(s[i], s[i + 1], 1 / 3), logLerp(s[i], s[i + 1], 2 / 3)] : [s[i]]),
  // Ancestral (eta = 1): the midpoint towards σ_down = σ_{i+1}²/σ_i, which is σ_{i+1} itself.
  ancestral: (s, i) => (s[i + 1] > 0 ? [s[i], logLerp(s[i], s[i + 1] ** 2 / s[i], 0.5)] : [s[i]]),
  // Predict-evaluate-correct-evaluate: the corrected state is evaluated again at σ_i.
  pece: (s, i) => (i > 0 ? [s[i], s[i]] : [s[i]]),
};

/** DPM-Solver "fast": len(sigmas) − 1 calls on its own log-even grid from σ_max to the last σ > 0,
 *  in steps of order 3 (calls at t, t + h/3, t + 2h/3 in t = −log σ), ending with order 2 and/or 1. */
function dpmFast(sigmas) {
  const n = sigmas.length - 1;
  if (n < 1) return [];
  const sigmaMin = sigmas[n] > 0 ? sigmas[n] : sigmas[n - 1];
  const tStart = -Math.log(sigmas[0]), tEnd = -Math.log(sigmaMin);
  const m = Math.floor(n / 3) + 1;
  const orders = n % 3 === 0 ? [...Array(m - 2).fill(3), 2, 1] : [...Array(m - 1).fill(3), n % 3];
  const fractions = { 1: [0], 2: [0, 1 / 2], 3: [0, 1 / 3, 2 / 3] };
  const out = [];
  orders.forEach((order, i) => {
    const t = tStart + ((tEnd - tStart) * i) / m, h = (tEnd - tStart) / m;
    for (const f of fractions[order]) out.push(Math.exp(-(t + f * h)));
  });
  return out;
}

/** Every sampler name → its rule ("adaptive": the number of calls depends on the model's output). */
export const SAMPLER_EVALUATIONS = {
  euler: "once", euler_cfg_pp: "once", euler_ancestral: "once", euler_ancestral_cfg_pp: "once",
  heun: "heun", heunpp2: "heunpp2", exp_heun_2_x0: "heun", exp_heun_2_x0_sde: "heun",
  dpm_2: "midpoint", dpm_2_ancestral: "ancestral", lms: "once", dpm_fast: "dpm_fast", dpm_adaptive: "adaptive",
  dpmpp_2s_ancestral: "ancestral", dpmpp_2s_ancestral_cfg_pp: "ancestral", dpmpp_sde: "midpoint",
  dpmpp_sde_gpu: "midpoint", dpmpp_2m: "once", dpmpp_2m_cfg_pp: "once", dpmpp_2m_sde: "once",
  dpmpp_2m_sde_gpu: "once", dpmpp_2m_sde_heun: "once", dpmpp_2m_sde_heun_gpu: "once", dpmpp_3m_sde: "once",
  dpmpp_3m_sde_gpu: "once", ddpm: "once", lcm: "once", ipndm: "once", ipndm_v: "once", deis: "once",
  res_multistep: "once", res_multistep_cfg_pp: "once", res_multistep_ancestral: "once",
  res_multistep_ancestral_cfg_pp: "once", gradient_estimation: "once", gradient_estimation_cfg_pp: "once",
  er_sde: "once", seeds_2: "midpoint", seeds_3: "thirds", sa_solver: "once", sa_solver_pece: "pece",
  ddim: "once", uni_pc: "once", uni_pc_bh2: "once",
};

/** The σ of every model call `sampler` makes on `sigmas`; null for an adaptive sampler. A name
 *  not in the table (another pack's sampler) is taken to call the model once per step. */
export function evaluationSigmas(sigmas, sampler = "heun") {
  const rule = SAMPLER_EVALUATIONS[sampler] ?? "once";
  if (rule === "adaptive") return null;
  if (rule === "dpm_fast") return dpmFast(sigmas);
  const out = [];
  for (let i = 0; i < sigmas.length - 1; i++) out.push(...STEP_RULES[rule](sigmas, i));
  return out;
}
