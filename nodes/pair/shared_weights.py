"""A main and a guide over one copy of the base weights.

Two loader nodes reading the same checkpoint give patchers over one ``BaseModel``: main = base +
LoRA and guide = the bare base, or the base at another LoRA strength, or with another LoRA. Both
run over the same base weights; only the patches that differ between them are applied per pass,
and nothing is re-patched between the passes:

- patches both models share are merged into the weights once, by ComfyUI, as usual;
- adapters (LoRA, LoHa, LoKr) on Linear and convolution layers run as side branches
  y = f(x) + h(x), on for the pass whose model has them (nodes/pair/adapters.py);
- other patches that differ (full diffs, DoRA, layers that normalise their weight such as EDM2's)
  are merged into a per-pass copy of just the layers they touch (nodes/pair/passes.py);
- injections that differ (core's bypass LoRA, ``LoraLoaderBypass``) are ejected for the guide's
  pass and injected back after it: the loader's own branches, off for the bare guide.

The main patcher returned holds the hooks and counts what they hold in its ``model_size()``; the
guide patcher marks its evaluations as the guide's pass. The two passes run one after the other on
the main model's device (they share its modules). A pair that differs by what cannot be switched
per pass (object patches, hooks) gets the old way: a second copy of the weights.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import _api
from .adapters import Branch, geometry_of, side_branch
from .passes import GUIDE, MAIN, LayerPlan, PassSwitch, describe, guide_pass

log = logging.getLogger(__name__)

INJECTION_KEY = "autoguidance_pair"
# Keep this much system memory free after copying the guide's weights (the fallback copy).
_HEADROOM_BYTES = 1 << 30


def shares_weights(main: Any, guide: Any) -> bool:
    """True when both patchers drive the same underlying torch module."""
    return main.model is guide.model


def _same(a: tuple, b: tuple) -> bool:
    """One patch entry in both models (the same adapter object at the same strengths)."""
    return a[1] is b[1] and a[0] == b[0] and a[2] == b[2] and a[3] == b[3] and a[4] is b[4]


def _without(patches: list, shared: list) -> list:
    return [q for q in patches if not any(_same(q, s) for s in shared)]


def _as_branch(patch: tuple, shape: Any) -> Branch | None:
    """An additive adapter at full model strength, as a side branch; None for anything else."""
    strength, data, strength_model, offset, function = patch
    parts = _api.adapter_parts(data)
    if parts is None or strength_model != 1.0 or offset is not None or function is not None:
        return None
    return side_branch(parts[0], parts[1], strength, shape)


def _plan_key(plan: LayerPlan, name: str, module: Any, own: dict[str, list], shared: list) -> bool:
    """Put one weight's differing patches into ``plan``: branches when every patch of both models is
    one (order then does not matter), else a merged copy per pass. True when ``shared`` stays merged."""
    shape = getattr(module, name).shape
    found = {p: [_as_branch(q, shape) for q in _without(own[p], shared)] for p in own}
    branches = {p: [b for b in found[p] if b is not None] for p in own}
    additive = all(_as_branch(q, shape) is not None for q in shared)
    every = all(len(branches[p]) == len(found[p]) for p in own)
    if name == "weight" and plan.geometry is not None and additive and every:
        for p in own:
            plan.branches[p] += branches[p]
        return True
    for p in own:
        if own[p]:
            plan.merges[p][name] = own[p]
    return False


def plan_pair(main: Any, guide: Any) -> tuple[dict[str, list], list[LayerPlan]] | str:
    """(patches both models share, the layers that differ), or what prevents sharing the weights."""
    patches = {MAIN: main.patches, GUIDE: guide.patches}
    common: dict[str, list] = {}
    plans: dict[str, LayerPlan] = {}
    for key in sorted(set(patches[MAIN]) | set(patches[GUIDE])):
        own = {p: list(patches[p].get(key, [])) for p in patches}
        shared = [q for q in own[MAIN] if any(_same(q, r) for r in own[GUIDE])]
        if len(shared) == len(own[MAIN]) == len(own[GUIDE]):
            common[key] = own[MAIN]
            continue
        path, name = key.rsplit(".", 1)
        module = main.model.get_submodule(path)
        if name not in module._parameters or _api.quantized_param(module, name):
            return f"'{key}' differs and is not a plain parameter"
        plan = plans.setdefault(path, LayerPlan(path, geometry_of(module)))
        if _plan_key(plan, name, module, own, shared) and shared:
            common[key] = shared
    return common, list(plans.values())


class GuidePass:
    """The guide's ``apply_model`` wrapper: its evaluations run as the guide's pass, with the main
    model's own injections (core's bypass LoRA) out and the guide's in."""

    def __init__(self, main: Any, guide: Any):
        ours, theirs = main.injections, guide.injections
        self.main, self.guide = main, guide
        self.off = [
            i for k, v in ours.items() if k != INJECTION_KEY and not _same_list(v, theirs.get(k)) for i in v
        ]
        self.on = [i for k, v in theirs.items() if not _same_list(v, ours.get(k)) for i in v]

    def __call__(self, executor: Any, *args: Any, **kwargs: Any) -> Any:
        with guide_pass():
            _api.run_injections(self.off, self.main, on=False)
            _api.run_injections(self.on, self.guide, on=True)
            try:
                return executor(*args, **kwargs)
            finally:
                _api.run_injections(self.on, self.guide, on=False)
                _api.run_injections(self.off, self.main, on=True)


def _same_list(a: list | None, b: list | None) -> bool:
    return (
        a is not None
        and b is not None
        and len(a) == len(b)
        and all(x is y for x, y in zip(a, b, strict=True))
    )


def share_weights(node: str, main: Any, guide: Any) -> tuple[Any, Any]:
    """(main, guide) to sample with: where both drive one model, a main patcher that switches the
    differing patches per pass and a guide that rides on it (ComfyUI loads the weights once)."""
    if not shares_weights(main, guide):
        return main, guide
    problem = _api.sharing_problem(main, guide)
    planned = problem or plan_pair(main, guide)
    if isinstance(planned, str):
        log.info(
            "%s: main and guide share one checkpoint but have %s: the guide gets its own copy", node, planned
        )
        return main, separate_guide(node, main, guide)
    common, plans = planned
    shared_main = _api.with_weight_patches(main, common)
    switch = PassSwitch(plans, _api.patched_weight)
    _api.set_injection_first(
        shared_main, INJECTION_KEY, lambda p: switch.inject(p.model), lambda p: switch.eject()
    )
    _api.grow_model_size(shared_main, switch.extra_bytes(main.model))
    rider = guide.clone()
    _api.add_apply_model_wrapper(rider, INJECTION_KEY, GuidePass(shared_main, rider))
    log.info("%s: main and guide share one copy of the base weights (%s)", node, describe(plans))
    return shared_main, rider


def rides_on(main: Any, guide: Any) -> bool:
    """The guide runs over the main model's loaded weights: ComfyUI loads nothing more for it."""
    return shares_weights(main, guide)


def separate_guide(node: str, main: Any, guide: Any) -> Any:
    """The guide itself, or, where it shares weights with ``main``, a clone over its own copy of the
    clean weights (when one fits in memory): the old way, kept for pairs ``share_weights`` refuses."""
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
    return _api.patcher_over_own_copy(guide)
