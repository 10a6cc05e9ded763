"""Reading official EDM2 ``.pkl`` snapshots without executing anything from the file.

Official snapshots pickle a ``dnnlib.util.EasyDict`` whose networks are
``torch_utils.persistence`` objects: each carries its module's *source code* and is rebuilt
by executing it. We never do that. A restricted unpickler resolves exactly the globals such
files use to inert stand-ins (records of the class name and state), rebuilds tensors with
torch's own weights-only machinery, and refuses every other global by name.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import torch


class UnsafePickleError(pickle.UnpicklingError):
    """The file asks for a global outside the allow-list (it could run code)."""


@dataclass
class PersistentRecord:
    """What ``_reconstruct_persistent_obj`` would rebuild, kept as data: class name and ``__dict__``."""

    class_name: str
    state: dict[str, Any]


class AttrDict(dict[str, Any]):
    """Stand-in for ``dnnlib.util.EasyDict`` (a dict with attribute access)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class ModuleRecord:
    """Stand-in for a plain torch module class (e.g. ``ModuleDict``) rebuilt by NEWOBJ + BUILD."""

    class_name: str
    state: dict[str, Any] = field(default_factory=dict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state


@dataclass
class ArrayRecord:
    """Stand-in for a numpy array (small metadata such as encoder scales); no numpy needed."""

    shape: tuple[int, ...] = ()
    dtype: Any = None
    data: bytes = b""

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        _, self.shape, self.dtype, _, self.data = state


@dataclass
class DtypeRecord:
    name: str
    state: tuple[Any, ...] = ()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.state = state


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("state"), dict):
        raise UnsafePickleError("persistent object: expected a dict with type 'class' and a state dict")
    return PersistentRecord(str(meta.get("class_name")), meta["state"])  # module_src is never read


def _load_storage(data: bytes) -> Any:
    """``torch.storage._load_from_bytes`` without its full unpickler: weights-only loading."""
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


class ModuleDictRecord(ModuleRecord):
    """Stand-in for ``torch.nn.modules.container.ModuleDict``."""

    def __init__(self, *_: Any) -> None:
        super().__init__("ModuleDict")


def _numpy_reconstruct(_cls: Any, _shape: Any, _dtype: Any) -> ArrayRecord:
    return ArrayRecord()


def _numpy_dtype(name: str, *_: Any) -> DtypeRecord:
    return DtypeRecord(str(name))


class _NumpyArrayClass:  # the ``ndarray`` global is only passed to ``_reconstruct``
    pass


ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): AttrDict,
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch.nn.modules.container", "ModuleDict"): ModuleDictRecord,
}
for _np in ("numpy._core.multiarray", "numpy.core.multiarray"):
    ALLOWED[(_np, "_reconstruct")] = _numpy_reconstruct
for _np in ("numpy", "numpy._core.multiarray", "numpy.core.multiarray"):
    ALLOWED[(_np, "ndarray")] = _NumpyArrayClass
    ALLOWED[(_np, "dtype")] = _numpy_dtype


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global '{module}.{name}': it is not one of the {len(ALLOWED)} globals an "
                "EDM2 snapshot needs, and loading it could run code. "
                "Only official EDM2 .pkl snapshots are read."
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"refusing persistent id {pid!r}: EDM2 snapshots contain none")


def safe_load(stream: BinaryIO) -> Any:
    """Unpickle ``stream`` with the allow-list; inert records stand in for EDM2's classes."""
    return RestrictedUnpickler(stream).load()
