"""``AutoguidanceModelDevice``: put a model (the guide) on a device of its own.

ComfyUI 0.23+ has this as *Select Model Device*; this node calls it there and does the same on
0.3.64, which has no core way. A guide on another device than the main model runs its pass there,
beside the main model's batch (nodes/pair/devices.py).
"""

from __future__ import annotations

from .. import _api, node_ids
from .._api import io

DEVICE_NAME = "Autoguidance Model Device"


class AutoguidanceModelDevice(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=node_ids.MODEL_DEVICE,
            display_name=DEVICE_NAME,
            category="sampling/autoguidance",
            description=(
                "Loads a model on a device of its own, e.g. the guide on a second GPU: the guide pass then "
                "runs there, at the same time as the main model's. Core's Select Model Device (ComfyUI "
                "0.23+) does the same; this node calls it where it exists."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The model to place, usually the guide."),
                io.Combo.Input(
                    "device",
                    options=_api.model_device_options(),
                    default="default",
                    tooltip=(
                        "default: where ComfyUI puts it; cpu: load and offload on the CPU (slow, frees the "
                        "GPU); gpu:N: the Nth GPU (listed with two or more). A device this machine lacks "
                        "leaves the model where it is."
                    ),
                ),
            ],
            outputs=[io.Model.Output()],
        )

    @classmethod
    def validate_inputs(cls, device: str = "default") -> bool:
        return True  # a workflow saved on a two-GPU machine still runs on one (the model stays put)

    @classmethod
    def execute(cls, model, device: str = "default") -> io.NodeOutput:
        return io.NodeOutput(_api.place_model(model, device))
