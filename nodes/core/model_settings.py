"""What Render Speed Preset reads from the prompt graph and writes onto conditioning (no comfy import).

- :func:`model_file_names`: the file names along a node's ``model`` link (UNETLoader's ``unet_name``,
  CheckpointLoaderSimple's ``ckpt_name``, LoraLoader's ``lora_name`` ...), the hints ``auto`` uses to
  tell variants of one ComfyUI model class apart (SDXL Turbo from SDXL, Qwen Lightning from Qwen-Image).
- :func:`with_guidance`: the conditioning FluxGuidance makes, built the same way as ComfyUI's
  ``node_helpers.conditioning_set_values`` (a new list, each entry's dict copied, ``guidance`` set).
"""

from __future__ import annotations

from typing import Any

from .prompt_graph import link_source, node_inputs

MAX_HOPS = 64
"""Most nodes followed up a model link (LoRA stacks, shift and patch nodes)."""


def model_file_names(prompt: Any, node_id: Any, input_name: str = "model") -> list[str]:
    """File names (``*_name`` text inputs) of the nodes up the ``input_name`` link of ``node_id``.

    Follows each node's own ``model`` input (LoRA loaders, ModelSampling*, other patches) up to
    :data:`MAX_HOPS` nodes; never raises on a malformed prompt (it simply finds fewer names).
    """
    if not isinstance(prompt, dict):
        return []
    current = link_source(node_inputs(prompt.get(str(node_id))).get(input_name))
    names: list[str] = []
    seen: set[str] = set()
    while current is not None and current not in seen and len(seen) < MAX_HOPS:
        seen.add(current)
        inputs = node_inputs(prompt.get(current))
        names += [v for k, v in inputs.items() if isinstance(k, str) and k.endswith("_name") and isinstance(v, str)]
        current = link_source(inputs.get("model"))
    return names


def with_guidance(conditioning: list[Any], guidance: float) -> list[list[Any]]:
    """``conditioning`` with ``guidance`` set on every entry, exactly as ComfyUI's FluxGuidance does."""
    return [[entry[0], {**entry[1], "guidance": guidance}] for entry in conditioning]
