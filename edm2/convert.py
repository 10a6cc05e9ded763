"""``python -m comfyui_autoguidance.edm2.convert IN.pkl [OUT.safetensors] [--force]``.

Converts an official EDM2 snapshot (read safely, see ``safe_pickle``) into our safetensors:
the ``ema`` network's weights as stored (float16) plus its config in the metadata.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .loading import build, read_snapshot, save


def convert(src: Path, dst: Path, force: bool = False) -> str:
    """Convert ``src`` to ``dst``; returns the one-line summary."""
    if dst.exists() and not force:
        raise FileExistsError(f"convert: {dst} exists; pass --force to overwrite it")
    start = time.monotonic()
    config, state = read_snapshot(src)
    net = build(config, state)
    save(net, dst)
    params = sum(p.numel() for p in net.parameters())
    dtype = next(net.parameters()).dtype
    return (
        f"{src.name} -> {dst.name}: {params / 1e6:.1f}M parameters, {str(dtype).removeprefix('torch.')}, "
        f"{net.label_dim} classes, {time.monotonic() - start:.1f}s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m comfyui_autoguidance.edm2.convert", description=__doc__)
    parser.add_argument("src", type=Path, help="official EDM2 .pkl snapshot")
    parser.add_argument("dst", type=Path, nargs="?", help="output .safetensors (default: beside the input)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    args = parser.parse_args(argv)
    dst = args.dst or args.src.with_suffix(".safetensors")
    try:
        summary = convert(args.src, dst, args.force)
    except (ValueError, FileExistsError, FileNotFoundError) as err:
        sys.stderr.write(f"{err}\n")
        return 1
    print(summary)  # noqa: T201 - the command's one-line summary
    return 0


if __name__ == "__main__":
    sys.exit(main())
