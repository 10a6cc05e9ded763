#!/usr/bin/env bash
# The GPU check: the device tests and the cost benchmarks on CUDA, in under 8 minutes.
#
#   COMFYUI_PATH=/path/to/ComfyUI PYTHON=/path/to/python bash benchmarks/gpu_check.sh [OUT_DIR]
#
# PYTHON: an interpreter with a CUDA build of torch and ComfyUI's requirements (ComfyUI 0.33.0 is
# the tested one; 0.3.64 runs all but the MultiGPU rows). Nothing is downloaded. Writes every
# step's output to OUT_DIR (default: $OUT if set, else out/gpu_check) and a summary.md there, whose
# tables go into benchmarks/README.md. Each step has its own time limit; a failed step is reported
# and the next one still runs; the exit status is non-zero if any step failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${OUT:-$repo/out/gpu_check}}
py=${PYTHON:-python3}
mkdir -p "$out"
summary=$out/summary.md
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

if [[ ! -f ${COMFYUI_PATH:-}/comfy/samplers.py ]]; then
  echo "gpu_check: set COMFYUI_PATH to a ComfyUI checkout (got '${COMFYUI_PATH:-}')" >&2
  exit 2
fi
if ! "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  echo "gpu_check: $py has no CUDA device (torch.cuda.is_available() is False)" >&2
  exit 2
fi

# The package is imported as comfyui_autoguidance whatever this folder is called (as tools/lint.sh).
link_dir=$(mktemp -d)
trap 'rm -rf "$link_dir"' EXIT
ln -s "$repo" "$link_dir/comfyui_autoguidance"
export PYTHONPATH=$link_dir${PYTHONPATH:+:$PYTHONPATH}
export COMFYUI_PATH

gpus=$("$py" -c 'import torch; print(torch.cuda.device_count())')
say "# GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
say ""
say '```'
"$py" - <<'EOF' | tee -a "$summary"
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}")
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"cuda:{i} {p.name}, {p.total_memory / 2**30:.0f} GiB")
EOF
say "ComfyUI $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$COMFYUI_PATH/comfyui_version.py") at $COMFYUI_PATH"
say '```'

if ! "$py" -c 'import pytest' 2>/dev/null; then
  echo "gpu_check: $py has no pytest: pip install -e '.[test]' (with that interpreter) first" >&2
  exit 2
fi

BUDGET=460  # seconds for every step together: the whole check stays under 8 minutes
failed=()
step() {  # NAME SECONDS COMMAND...: run from the repository root, output kept, table lines summarised
  local name=$1 limit=$2
  shift 2
  local log=$out/$name.log start=$SECONDS left=$((BUDGET - SECONDS))
  if [[ $left -lt 20 ]]; then
    say "" && say "## $name: not run (the 8-minute budget is spent)"
    failed+=("$name")
    return
  fi
  [[ $limit -le $left ]] || limit=$left
  echo "gpu_check: $name (limit ${limit}s)"
  (cd "$repo" && timeout "$limit" "$@") >"$log" 2>&1
  local status=$?
  say ""
  say "## $name: $([[ $status -eq 0 ]] && echo ok || echo "FAILED (status $status)") in $((SECONDS - start)) s"
  say ""
  grep -E '^(\||Heun|[0-9]+ (passed|failed)|FAILED|SKIPPED|ERROR)' "$log" | tail -40 | tee -a "$summary" >/dev/null
  [[ $status -eq 0 ]] || failed+=("$name")
}

# 1. Device tests (~1-2 min): the guide on its own device (cuda:0 + cpu; cuda:0 + cuda:1 with two
#    GPUs), the threaded pass = the serial one in float32, float16 and bfloat16, MultiGPU CFG Split
#    with the guide on the second GPU; then every core test on CUDA (schedules, EDM2 forward).
step device-tests 180 "$py" -m pytest -m comfyui tests/nodes/test_guide_cuda.py -q -rs -p no:randomly
step core-devices 90 "$py" -m pytest tests/core/test_devices.py tests/core/test_edm2_precision.py -q -rs -p no:randomly

# 2. Cost: the guide pass beside the main's, concurrent vs serial, per dtype (~30 s each).
for dtype in float32 float16 bfloat16; do
  step "parallel-guide-one-gpu-$dtype" 90 "$py" benchmarks/parallel_guide.py --dtype "$dtype" --repeats 3 \
    --main-device cuda:0 --guide-device cuda:0
done
step parallel-guide-guide-on-cpu 90 "$py" benchmarks/parallel_guide.py --repeats 2 \
  --main-device cuda:0 --guide-device cpu
if [[ $gpus -ge 2 ]]; then
  for dtype in float32 float16; do
    step "parallel-guide-two-gpus-$dtype" 90 "$py" benchmarks/parallel_guide.py --dtype "$dtype" --repeats 3 \
      --main-device cuda:0 --guide-device cuda:1
  done
fi
step edm2-forward 60 "$py" benchmarks/edm2_forward.py --quick

say ""
if [[ ${#failed[@]} -gt 0 ]]; then
  say "gpu_check: failed: ${failed[*]} (logs in $out)"
  exit 1
fi
say "gpu_check: all steps passed (logs in $out)"
