"""``AutoguidanceEDM2ClassConditioning``: an ImageNet-1k (or any) class as CONDITIONING for EDM2 models.

The conditioning holds the class vector c ∈ R^label_dim (one-hot, or a mix of two classes,
or zeros = unconditional, which is what the official code feeds a conditional EDM2 given no
labels) under ``edm2_labels``; the EDM2 model turns it into the UNet's label input.
"""

from __future__ import annotations

from ...edm2.labels import class_vector, imagenet_class_names
from .. import node_ids
from .._api import io
from .model import LABELS_KEY

NAME = "EDM2 Class Conditioning"
BY_INDEX = "(use class_index)"


def class_options() -> list[str]:
    return [BY_INDEX] + [f"{i}: {name}" for i, name in enumerate(imagenet_class_names())]


def _inputs() -> list:
    """The node's widgets, with tooltips."""
    return [
        io.Combo.Input(
            "class_name",
            options=class_options(),
            default="88: macaw",
            tooltip=(
                "An ImageNet-1k class by name (for the paper's EDM2 models). Pick the first entry to "
                "use class_index instead (e.g. for the bundled digits model, classes 0-9)."
            ),
        ),
        io.Int.Input(
            "class_index",
            default=0,
            min=-1,
            max=99999,
            tooltip="Class number, used when class_name is '(use class_index)'. -1 = no class.",
        ),
        io.Int.Input(
            "label_dim",
            default=1000,
            min=1,
            max=100000,
            tooltip="How many classes the model knows: 1000 for ImageNet EDM2, 10 for the bundled digits.",
        ),
        io.Int.Input(
            "second_class_index",
            default=-1,
            min=-1,
            max=99999,
            tooltip="Optional second class to blend in (-1 = none).",
        ),
        io.Float.Input(
            "mix",
            default=0.0,
            min=0.0,
            max=1.0,
            step=0.05,
            tooltip="Share of the second class: 0 = only the first, 0.5 = half and half.",
        ),
        io.Boolean.Input(
            "unconditional",
            default=False,
            tooltip="No class at all (zero vector): the input for the unconditional pass of CFG.",
        ),
    ]


class AutoguidanceEDM2ClassConditioning(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.EDM2_CLASS_CONDITIONING,
            display_name=NAME,
            category="sampling/autoguidance/edm2",
            description=(
                "Pick what an EDM2 class-conditional model draws: an ImageNet class by name or index, "
                "optionally blended with a second class, or nothing (unconditional)."
            ),
            inputs=_inputs(),
            outputs=[io.Conditioning.Output()],
        )

    @classmethod
    def execute(
        cls,
        class_name: str,
        class_index: int,
        label_dim: int,
        second_class_index: int,
        mix: float,
        unconditional: bool,
    ) -> io.NodeOutput:
        index = class_index if class_name == BY_INDEX else int(class_name.split(":", 1)[0])
        if unconditional:
            index, second_class_index = -1, -1
        try:
            labels = class_vector(label_dim, index, second_class_index, mix)
        except ValueError as err:
            raise ValueError(f"{NAME}: {err}") from None
        return io.NodeOutput(
            [[labels.unsqueeze(1), {LABELS_KEY: labels}]]
        )  # [1, 1, label_dim], [1, label_dim]
