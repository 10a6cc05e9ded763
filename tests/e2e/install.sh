#!/usr/bin/env bash
# Installs what the end-to-end suite drives: Debian's Chromium and the Playwright package
# (Playwright drives that Chromium; it downloads no browser of its own).
set -euo pipefail
PYTHON=${PYTHON:-python3}
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
