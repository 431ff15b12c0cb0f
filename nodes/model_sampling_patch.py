"""The shift of ComfyUI's ModelSamplingSD3 / ModelSamplingAuraFlow / ModelSamplingFlux nodes, in the pack.

Same math as those nodes (``comfy_extras/nodes_model_advanced.py``): a clone of the model with its
``model_sampling`` object replaced by ComfyUI's own sampling class (discrete flow with a timestep
multiplier of 1000 or 1.0, or Flux's time shift) set to the shift. The node classes themselves are
not imported: only ``comfy.model_sampling``, whose classes the sigmas are computed from.
"""

from __future__ import annotations

from typing import Any

import comfy.model_sampling

from .core.presets import SHIFT_MULTIPLIERS


def is_flow_model(model: Any) -> bool:
    """True when the model samples as a flow (CONST) model: the only kind a shift applies to."""
    return isinstance(model.get_model_object("model_sampling"), comfy.model_sampling.CONST)


def shifted_model(model: Any, shift_node: str, shift: float) -> Any:
    """A clone of ``model`` sampled as ComfyUI's ``shift_node`` would sample it with ``shift``."""
    if shift_node == "ModelSamplingFlux":
        base: type = comfy.model_sampling.ModelSamplingFlux
        parameters: dict[str, float] = {"shift": shift}
    else:
        base = comfy.model_sampling.ModelSamplingDiscreteFlow
        parameters = {"shift": shift, "multiplier": SHIFT_MULTIPLIERS[shift_node]}

    class ModelSamplingAdvanced(base, comfy.model_sampling.CONST):
        pass

    sampling = ModelSamplingAdvanced(model.model.model_config)
    sampling.set_parameters(**parameters)
    patched = model.clone()
    patched.add_object_patch("model_sampling", sampling)
    return patched
