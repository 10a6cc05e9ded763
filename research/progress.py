"""Progress bars for the training loops: tqdm, with the loss beside the step count."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def loss_bar(desc: str, total: int) -> Iterator[Callable[[int, float], None]]:
    """``with loss_bar("train main", steps) as progress: train(..., progress=progress)``."""
    with tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True) as bar:

        def progress(step: int, loss: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(step + 1 - bar.n)

        yield progress
