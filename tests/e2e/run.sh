#!/usr/bin/env bash
# The end-to-end suite in one command: real ComfyUI server on 127.0.0.1, real Chromium, our pack.
#   bash tests/e2e/run.sh            (ComfyUI at $COMFYUI_PATH or /opt/comfyui)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
bash tests/e2e/install.sh
exec "$PYTHON" -m pytest -ra tests/e2e tests/server "$@"
