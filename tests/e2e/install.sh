#!/usr/bin/env bash
# Installs what the end-to-end suite drives (idempotent, cached; every step that fails leaves
# the tests that need it skipping with the reason rather than failing):
# - Debian's Chromium and the Playwright package for $PYTHON (Playwright drives that Chromium;
#   it downloads no browser of its own);
# - the current front end, comfyui-frontend-package==$FRONTEND_VERSION, unzipped into
#   $AUTOGUIDANCE_CACHE (default ~/.cache/comfyui-autoguidance), outside the repository;
# - on ComfyUI 0.3.x, the workflow templates that front end asks for (comfyui-workflow-templates==0.1.95).
set -euo pipefail
PYTHON=${PYTHON:-python3}
FRONTEND_VERSION=${FRONTEND_VERSION:-1.58.1}
CACHE=${AUTOGUIDANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/comfyui-autoguidance}
COMFY=${COMFYUI_PATH:-/opt/comfyui}

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) \
      || echo "e2e: could not install chromium; the browser tests will skip" >&2
  else
    echo "e2e: chromium is missing and cannot be installed here (needs root and apt-get); the browser tests will skip" >&2
  fi
fi
"$PYTHON" -c "import playwright" 2>/dev/null || "$PYTHON" -m pip install -q "playwright>=1.45" \
  || echo "e2e: could not install playwright; the browser tests will skip" >&2

frontend="$CACHE/frontend-$FRONTEND_VERSION"
if [ ! -f "$frontend/comfyui_frontend_package/static/index.html" ]; then
  mkdir -p "$CACHE/wheels"
  if "$PYTHON" -m pip download -q --no-deps "comfyui-frontend-package==$FRONTEND_VERSION" -d "$CACHE/wheels"; then
    rm -rf "$frontend.tmp" && mkdir -p "$frontend.tmp"
    "$PYTHON" -m zipfile -e "$CACHE/wheels/comfyui_frontend_package-$FRONTEND_VERSION-py3-none-any.whl" "$frontend.tmp" \
      && rm -rf "$frontend" && mv "$frontend.tmp" "$frontend"
  else
    echo "e2e: could not download comfyui-frontend-package==$FRONTEND_VERSION; its browser tests will skip" >&2
  fi
fi

# ComfyUI 0.3.x serving the newer front end needs templates its own requirements do not pin.
if [ -f "$COMFY/comfyui_version.py" ] && grep -q '__version__ = "0\.3\.' "$COMFY/comfyui_version.py"; then
  "$PYTHON" -c "import comfyui_workflow_templates" 2>/dev/null \
    || "$PYTHON" -m pip install -q "comfyui-workflow-templates==0.1.95" \
    || echo "e2e: could not install comfyui-workflow-templates==0.1.95 for ComfyUI 0.3.x" >&2
fi
echo "e2e: front end $FRONTEND_VERSION at $frontend"
