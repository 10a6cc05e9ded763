"""The main and the guide pass over one set of base weights.

Each layer whose patches differ between the two models gets a forward hook that reads which pass
is running (a context variable: the guide's evaluations set it, everything else is the main pass)
and then

- adds that pass's side branches h(x) to the layer's output (adapters, nodes/pair/adapters.py), and
- for weights whose patches cannot be branches (full diffs, DoRA, layers other than Linear/Conv),
  swaps in that pass's merged copy of the weight for the call: only those layers are held twice.

Nothing is written into the weights between passes. The hooks are installed when ComfyUI loads the
main model (an injection, like core's bypass LoRA) and removed when it unloads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .adapters import Branch, Geometry

MAIN, GUIDE = "main", "guide"
PASSES = (MAIN, GUIDE)
_ACTIVE: ContextVar[str] = ContextVar("autoguidance_pass", default=MAIN)


@contextlib.contextmanager
def guide_pass() -> Iterator[None]:
    """Run the block as the guide's pass (per thread and task: a concurrent main pass is unaffected)."""
    token = _ACTIVE.set(GUIDE)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_pass() -> str:
    return _ACTIVE.get()


Merge = Callable[[list, Tensor, str], Tensor]  # (patches, base weight, key) → merged weight


@dataclass
class LayerPlan:
    """One layer (``path`` in the model) whose weights differ between the passes."""

    path: str
    geometry: Geometry | None
    branches: dict[str, list[Branch]] = field(default_factory=lambda: {p: [] for p in PASSES})
    merges: dict[str, dict[str, list]] = field(default_factory=lambda: {p: {} for p in PASSES})

    def branch_tensors(self) -> list[Tensor]:
        return [t for p in PASSES for b in self.branches[p] for t in b.tensors()]

    def copy_bytes(self, module: torch.nn.Module) -> int:
        """Bytes of the per-pass merged copies of this layer's weights."""
        params = dict(module.named_parameters(recurse=False))
        return sum(params[n].numel() * params[n].element_size() for p in PASSES for n in self.merges[p])


class LayerSwitch:
    """The hooks of one layer: swap in the running pass's merged weights, add its branches."""

    def __init__(self, module: torch.nn.Module, plan: LayerPlan, merge: Merge):
        self.module, self.plan = module, plan
        self.copies = {p: self._merged(p, merge) for p in PASSES if plan.merges[p]}
        self.placed: dict[tuple, list[Branch]] = {}  # (pass, device, dtype) → branches there
        self.saved: dict[str, torch.nn.Parameter] = {}
        self.handles = [module.register_forward_pre_hook(self.pre), module.register_forward_hook(self.post)]

    def _merged(self, pass_name: str, merge: Merge) -> dict[str, torch.nn.Parameter]:
        # The clean weights: the main model merges only the patches both models share.
        base = dict(self.module.named_parameters(recurse=False))
        return {
            param: torch.nn.Parameter(
                merge(patches, base[param].detach(), f"{self.plan.path}.{param}"), False
            )
            for param, patches in self.plan.merges[pass_name].items()
        }

    def pre(self, module: torch.nn.Module, args: tuple) -> None:
        copies = self.copies.get(_ACTIVE.get())
        if copies:
            self.saved = {n: getattr(module, n) for n in copies}
            module._parameters.update(copies)

    def post(self, module: torch.nn.Module, args: tuple, output: Tensor) -> Tensor | None:
        self.restore()
        branches = self.plan.branches[_ACTIVE.get()]
        if not branches:
            return None
        geometry, x = self.plan.geometry, args[0]
        assert geometry is not None  # branches are only planned for Linear/Conv layers
        for branch in self.on(x):
            output = branch.add_to(output, x, geometry)
        return output

    def on(self, x: Tensor) -> list[Branch]:
        """This pass's branches on x's device and dtype (moved once, kept until unload)."""
        key = (_ACTIVE.get(), x.device, x.dtype)
        if key not in self.placed:
            self.placed[key] = [b.to(x.device, x.dtype) for b in self.plan.branches[key[0]]]
        return self.placed[key]

    def restore(self) -> None:
        if self.saved:
            self.module._parameters.update(self.saved)
            self.saved = {}

    def remove(self) -> None:
        self.restore()
        for handle in self.handles:
            handle.remove()

    def resident(self) -> list[Tensor]:
        """Tensors this layer holds beyond the model's own weights: merged copies, placed branches."""
        held = [t for copies in self.copies.values() for t in copies.values()]
        return held + [t for branches in self.placed.values() for b in branches for t in b.tensors()]


class PassSwitch:
    """All layers of a pair whose weights differ: hooks in while the main model is loaded."""

    def __init__(self, plans: list[LayerPlan], merge: Merge):
        self.plans, self.merge = plans, merge
        self.layers: list[LayerSwitch] = []

    def inject(self, model: torch.nn.Module) -> None:
        self.eject()
        self.layers = [LayerSwitch(model.get_submodule(p.path), p, self.merge) for p in self.plans]

    def eject(self) -> None:
        for layer in self.layers:
            layer.remove()
        self.layers = []

    def extra_bytes(self, model: torch.nn.Module) -> int:
        """What the pair holds beyond one model's weights: branch factors and merged copies."""
        tensors = [t for p in self.plans for t in p.branch_tensors()]
        storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}
        return sum(storages.values()) + sum(p.copy_bytes(model.get_submodule(p.path)) for p in self.plans)

    def resident(self) -> list[Tensor]:
        return [t for layer in self.layers for t in layer.resident()]


def describe(plans: list[LayerPlan]) -> str:
    """'12 layers as side branches, 2 merged per pass' for the log."""
    branched = sum(any(p.branches[n] for n in PASSES) for p in plans)
    merged = sum(any(p.merges[n] for n in PASSES) for p in plans)
    return f"{branched} layers with side branches, {merged} merged per pass"
