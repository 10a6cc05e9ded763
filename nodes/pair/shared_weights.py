"""Making the guide a model of its own when it shares weights with the main model.

Two loader nodes reading the same checkpoint give patchers over one ``BaseModel``
(say main = base + LoRA, guide = the bare base). ComfyUI would then re-patch the shared
weights between every main and guide pass. We give the guide its own copy of the clean
weights instead, once, when there is room for it in memory; otherwise we say so.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import _api

log = logging.getLogger(__name__)

# Keep this much system memory free after copying the guide's weights.
_HEADROOM_BYTES = 1 << 30


def shares_weights(main: Any, guide: Any) -> bool:
    """True when both patchers drive the same underlying torch module."""
    return main.model is guide.model


def separate_guide(node: str, main: Any, guide: Any) -> Any:
    """The guide itself, or, where it shares weights with ``main``, a clone over its own copy."""
    if not shares_weights(main, guide):
        return guide
    size = guide.model_size()
    free = int(_api.get_free_memory(guide.offload_device))
    if size + _HEADROOM_BYTES > free:
        raise MemoryError(
            f"{node}: main and guide are the same checkpoint and a second copy of its weights "
            f"({size / 2**30:.2f} GiB) does not fit in free memory ({free / 2**30:.2f} GiB). "
            "Load the guide from a smaller checkpoint, or free memory (close other workflows)."
        )
    _api.unload(guide.model)  # copy the clean, unpatched weights
    own = _api.patcher_over_own_copy(guide)
    log.info(
        "%s: main and guide share one checkpoint; gave the guide its own copy of the weights "
        "(%.1f MiB) so nothing is re-patched between the two passes",
        node,
        size / 2**20,
    )
    return own
