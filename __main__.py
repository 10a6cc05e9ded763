"""Command line: ``python -m comfyui_autoguidance demo [digits|toy2d] [options]``."""

from __future__ import annotations

import sys


def _usage() -> int:
    sys.stderr.write(
        "usage: python -m comfyui_autoguidance demo [digits|toy2d] [--out PNG] [--quick]\n"
        "  demo          autoguidance vs CFG vs no guidance on the bundled digits models (default)\n"
        "  demo toy2d    the paper's 2-D toy study: trains three tiny denoisers, draws four panels\n"
    )
    return 2


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "demo":
        return _usage()
    rest = argv[1:]
    which = rest.pop(0) if rest and not rest[0].startswith("-") else "digits"
    if which == "toy2d":
        from .demos.toy2d import main as toy2d

        return toy2d(rest)
    if which == "digits":
        try:
            from .demos.digits import main as digits
        except ImportError as err:
            sys.stderr.write(f"the digits demo is not available in this version ({err}); try 'demo toy2d'\n")
            return 1
        return digits(rest)
    sys.stderr.write(f"unknown demo {which!r}; choose 'digits' or 'toy2d'\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
