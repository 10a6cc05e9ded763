#!/usr/bin/env bash
# What CI runs for hygiene (pyproject.toml's [tool.ruff] and [tool.mypy]); exits non-zero on any finding.
#   pip install -e ".[lint]" && bash tools/lint.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
status=0

echo "lint: ruff check"
ruff check --output-format concise . || status=1

echo "lint: ruff format --check"
ruff format --check --output-format concise . || status=1

# mypy must see the package under its import name, comfyui_autoguidance, whatever this folder is
# called: a temporary folder holds a link of that name to the checkout. mypy runs from there so
# that the checkout's own __main__.py is never taken for the interpreter's __main__.
echo "lint: mypy guidance/ edm2/ (strict) nodes/"
link_dir=$(mktemp -d)
trap 'rm -rf "$link_dir"' EXIT
ln -s "$repo" "$link_dir/comfyui_autoguidance"
(
  cd "$link_dir"
  MYPYPATH="$link_dir" mypy --config-file "$repo/pyproject.toml" --cache-dir "$repo/.mypy_cache" \
    -p comfyui_autoguidance.guidance -p comfyui_autoguidance.edm2 -p comfyui_autoguidance.nodes
) || status=1

if [[ $status -ne 0 ]]; then
  echo "lint: findings above (ruff format . rewrites the formatting; fix the rest by hand)" >&2
fi
exit $status
