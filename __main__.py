"""Command line: ``python -m comfyui_autoguidance demo [options]``, the digits demo."""

from __future__ import annotations

import sys


def _usage() -> int:
    sys.stderr.write(
        "usage: python -m comfyui_autoguidance demo [--out PNG] [--quick] [--help]\n"
        "  demo    autoguidance vs CFG vs no guidance on the bundled digits models\n"
        "The 2-D toy study, the w sweep and the training recipe are research scripts in the repository:\n"
        "  python -m research.toy2d | research.digits_sweep | research.train_digits (from a checkout)\n"
    )
    return 2


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "demo":
        return _usage()
    rest = argv[1:]
    if rest and rest[0] == "digits":  # the demo's old explicit name
        rest = rest[1:]
    if rest and not rest[0].startswith("-"):
        sys.stderr.write(f"unknown demo {rest[0]!r}\n")
        return _usage()
    from .demos.digits import main as digits

    return digits(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
