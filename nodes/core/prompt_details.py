"""The generation details in a ComfyUI prompt: which sampler made an image, and what it used.

Pure Python (stdlib only). Reads an API-format prompt (the ``prompt`` PNG chunk, or the prompt of a run)
as a ``prompt_graph.PromptGraph``: finds the sampler (``producing_sampler`` for one image's, or the last
one for a whole prompt) and follows its inputs to the seed, prompts, steps, cfg, sampler, scheduler,
size and model (``details_for_sampler``, ``details_from_comfy_prompt``), and on modern graph shapes
(UNETLoader, guiders, ModelSampling*, FluxGuidance) the ``shift`` and ``guidance`` the model was sampled
with. With a ``Tap``, run-time values (list elements, speed and variant labels, a Render Speed Preset's
family, shift and guidance) win over the graph's literal inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .details_fields import MAX_DEFAULT_TEXT, DetailsError, preview, validate_details
from .details_json import load_json
from .prompt_graph import (
    CONDITIONING_INPUTS,
    MAX_LINK_DEPTH,
    NO_VALUE,
    TEXT_INPUTS,
    PromptGraph,
    Tap,
    is_link,
    link_source,
    node_inputs,
    seed_input,
)
from .resolve import REQUESTED_KEY
from .seeds import (
    DEFAULT_BATCH_SEEDS,
    DEFAULT_MODE,
    DEFAULT_NOISE_SOURCE,
    MODES,
    NODE_ID,
    NOISE_OUTPUT,
    NOISE_SOURCES,
    coerce_strength,
)

__all__ = [
    "DETAILS_NODE_ID",
    "SAMPLER_CLASSES",
    "decoder_vae_name",
    "details_for_sampler",
    "details_from_comfy_prompt",
    "image_details",
    "producing_sampler",
]

SAMPLER_CLASSES = frozenset({"KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"})
DETAILS_NODE_ID = "SeedDetails|SeedNumber"
_OUTPUT_CLASSES = frozenset(
    {"SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveImageWebsocket", "SaveWEBM"}
)
_SEED_INPUTS = ("seed_number", "noise_seed", "seed", "value", "int", "number")
_NUMBER_INPUTS = ("value", "float", "int", "number")
_STRING_INPUTS = ("value", "text", "string", "prompt")
_LATENT_INPUTS = ("samples", "latent", "latent_image", "samples_to", "samples1", "destination")
_SAMPLER_NODE_NAMES = {
    "SamplerEulerAncestral": "euler_ancestral",
    "SamplerEulerAncestralCFGPP": "euler_ancestral_cfg_pp",
    "SamplerDPMPP_2S_Ancestral": "dpmpp_2s_ancestral",
    "SamplerLMS": "lms",
    "SamplerDPMAdaptative": "dpm_adaptive",
    "SamplerER_SDE": "er_sde",
    "SamplerSASolver": "sa_solver",
    "SamplerDPMPP_SDE": "dpmpp_sde",
    "SamplerDPMPP_2M_SDE": "dpmpp_2m_sde",
    "SamplerDPMPP_3M_SDE": "dpmpp_3m_sde",
}
_SCHEDULER_NODE_NAMES = {
    "KarrasScheduler": "karras",
    "ExponentialScheduler": "exponential",
    "BetaSamplingScheduler": "beta",
}
_IMAGE_CHAIN_INPUTS = ("samples", "images", "image", "pixels", "latent", "latent_image")
_SHIFT_NODES = frozenset({"ModelSamplingSD3", "ModelSamplingAuraFlow"})
"""ComfyUI's model-sampling nodes whose ``shift`` input is the shift itself."""
FLUX_SHIFT_TOKENS = (256, 4096)
"""ModelSamplingFlux: image tokens (2×2 patches of 8× latent cells) at which ``base_shift`` and
``max_shift`` apply; the shift is linear in the token count between (and beyond) them."""
_MODEL_SETTINGS = "model_settings"
"""The run-time record (``want``) Render Speed Preset keeps: family, shift and guidance per speed."""


# -- what one input stands for -------------------------------------------------------------


def _prompt_text(graph: PromptGraph, value: Any) -> str | None:
    """The prompt text a CONDITIONING link was encoded from (through conditioning nodes), or None."""

    def step(index: int, _class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
        name = next((n for n in TEXT_INPUTS if n in inputs), None)
        if name is not None:
            text, _ = graph.follow(inputs[name], _STRING_INPUTS)
            return (text if isinstance(text, str) else None), None
        if "positive" in inputs and "negative" in inputs:  # ControlNetApplyAdvanced: outputs 0 and 1
            return None, inputs["negative" if index == 1 else "positive"]
        name = next((n for n in CONDITIONING_INPUTS if n in inputs), None)
        return None, inputs.get(name) if name else None

    if not is_link(value):
        return None
    return graph.walk(value, step, want="text")


def _latent_size(graph: PromptGraph, value: Any) -> tuple[int, int, Any] | None:
    """``(width, height, batch_size)`` of the first node up a LATENT link's chain that has a size."""

    def step(_index: int, _class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
        width, _ = graph.follow(inputs.get("width"), _NUMBER_INPUTS)
        height, _ = graph.follow(inputs.get("height"), _NUMBER_INPUTS)
        if isinstance(width, int) and isinstance(height, int):
            batch, _ = graph.follow(inputs.get("batch_size"), _NUMBER_INPUTS)
            return (width, height, batch), None
        name = next((n for n in _LATENT_INPUTS if is_link(inputs.get(n))), None)
        return None, inputs.get(name) if name else None

    return graph.walk(value, step)


def _model_name(graph: PromptGraph, value: Any) -> str | None:
    """The checkpoint, UNet or model file up a MODEL link's chain, or None."""

    def step(_index: int, _class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
        for name in ("ckpt_name", "unet_name", "model_name"):
            found, _ = graph.follow(inputs.get(name), _STRING_INPUTS)
            if isinstance(found, str):
                return found, None
        return None, inputs.get("model")

    return graph.walk(value, step)


def flux_shift(max_shift: float, base_shift: float, width: float, height: float) -> float:
    """The shift ComfyUI's ModelSamplingFlux node sets for an image of ``width`` × ``height`` pixels:
    ``base_shift`` at 256 tokens, ``max_shift`` at 4096, linear in the token count (w·h / 256)."""
    low, high = FLUX_SHIFT_TOKENS
    slope = (max_shift - base_shift) / (high - low)
    return (width * height / (8 * 8 * 2 * 2)) * slope + (base_shift - slope * low)


def _number(graph: PromptGraph, value: Any) -> float | None:
    """A finite number the input stands for, as a float; None otherwise (a prompt read from a file is
    not validated: an integer of any size may stand there)."""
    found = graph.follow(value, _NUMBER_INPUTS)[0]
    if isinstance(found, bool) or not isinstance(found, int | float):
        return None
    try:
        number = float(found)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _model_shift(graph: PromptGraph, value: Any) -> Any:
    """The shift a ModelSampling* node up a MODEL link applies, or a Render Speed Preset's record there."""

    def step(_index: int, class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
        if class_type in _SHIFT_NODES:
            return _number(graph, inputs.get("shift")), None
        if class_type == "ModelSamplingFlux":
            numbers = [_number(graph, inputs.get(n)) for n in ("max_shift", "base_shift", "width", "height")]
            if None in numbers:
                return None, None
            shift = flux_shift(*numbers)  # type: ignore[arg-type]
            return (shift if math.isfinite(shift) else None), None
        return None, inputs.get("model")

    return graph.walk(value, step, want=_MODEL_SETTINGS)


def _guidance(graph: PromptGraph, value: Any) -> Any:
    """The guidance a FluxGuidance node up a CONDITIONING link sets, or a Render Speed Preset's record there."""

    def step(_index: int, class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
        if class_type == "FluxGuidance":
            return _number(graph, inputs.get("guidance")), None
        name = next((n for n in CONDITIONING_INPUTS if n in inputs), None)
        return None, inputs.get(name) if name else None

    return graph.walk(value, step, want=_MODEL_SETTINGS) if is_link(value) else None


def _read_model_settings(graph: PromptGraph, model: Any, positive: Any, details: dict[str, Any]) -> None:
    """``shift`` (up the model), ``guidance`` (up the positive) and, from a Render Speed Preset, ``family``."""
    for name, found in (("shift", _model_shift(graph, model)), ("guidance", _guidance(graph, positive))):
        if isinstance(found, dict):  # a Render Speed Preset's record: what its model / positive output set
            _put(details, "family", found.get("family"))
            found = found.get(name)
        _put(details, name, found)


# -- one sampler ---------------------------------------------------------------------------


def _put(details: dict[str, Any], name: str, value: Any) -> None:
    if value is not None and name not in details:
        details[name] = value


def _node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id) if node_id.isdigit() and len(node_id) < 19 else -1, node_id)


def _pick_sampler(graph: PromptGraph, samplers: list[str]) -> str:
    fed = graph.upstream(samplers)
    last = [s for s in samplers if s not in fed] or samplers
    details_nodes = [n for n, (c, _) in graph.nodes.items() if c == DETAILS_NODE_ID]
    outputs = [n for n, (c, _) in graph.nodes.items() if c in _OUTPUT_CLASSES]
    to_details = graph.upstream(details_nodes) if details_nodes else set()
    to_output = graph.upstream(outputs) if outputs else set()
    return max(last, key=lambda s: (s in to_details, s in to_output, _node_order(s)))


def _read_seed(graph: PromptGraph, class_type: str, inputs: dict[str, Any], details: dict[str, Any]) -> None:
    """``seed``, and with a Seed Source behind it ``mode`` and ``seed_node``."""
    seed_link = inputs.get(seed_input(class_type))
    seed, seed_node = graph.follow(seed_link, _SEED_INPUTS)  # RandomNoise, Seed Source, primitives
    if seed_node is not None and graph.nodes[seed_node][0] == NODE_ID:
        source_inputs = graph.nodes[seed_node][1]
        mode = source_inputs.get("mode", DEFAULT_MODE)
        requested = source_inputs.get(REQUESTED_KEY, mode)
        _put(details, "mode", requested if requested in MODES else None)
        if mode != "fixed" and seed_node not in graph.tapped:  # not resolved by the prompt hook, not run
            graph.problems.append(
                f"prompt: Seed Source {seed_node!r} is in {preview(mode)} mode, not resolved: the seed used is unknown"
            )
            seed = None
    _put(details, "seed", seed)
    if seed_node is not None and graph.nodes[seed_node][0] == NODE_ID:
        _put(details, "seed_node", seed_node)  # the Seed Source that made it (the panel's "Use this seed")
    _read_noise(graph, seed_link, details)


_NOISE_DEFAULTS = {"noise_source": DEFAULT_NOISE_SOURCE, "variation_seed": None, "variation_strength": 0.0}


def _read_noise(graph: PromptGraph, link: Any, details: dict[str, Any]) -> None:
    """``noise_source`` (``comfy`` unless a Seed Source's noise output says otherwise), and with a
    variation strength other than 0 ``variation_seed``, ``variation_strength`` and ``batch_seeds``."""
    hop = graph.target(link)
    if hop is None or hop[2] != NODE_ID or hop[1] != NOISE_OUTPUT:  # not Seed Source's noise: ComfyUI's
        if details.get("seed") is not None:
            _put(details, "noise_source", DEFAULT_NOISE_SOURCE)
        return
    node_id, index, class_type, inputs = hop
    values = {}
    for name, default in _NOISE_DEFAULTS.items():
        value = graph.tapped_value(node_id, class_type, index, name)
        if value is NO_VALUE:  # no run-time record (a prompt read back from a file): the literal input
            value = inputs.get(name, default)
        values[name] = value
    _put(details, "noise_source", values["noise_source"] if values["noise_source"] in NOISE_SOURCES else None)
    _put(details, "batch_seeds", inputs.get("batch_seeds", DEFAULT_BATCH_SEEDS))
    strength = coerce_strength(values["variation_strength"])
    if strength and not is_link(values["variation_seed"]):
        _put(details, "variation_seed", values["variation_seed"])
        _put(details, "variation_strength", strength)


def _guided_inputs(graph: PromptGraph, inputs: dict[str, Any], details: dict[str, Any]) -> tuple[Any, Any, Any]:
    """``(positive, negative, model)`` links: the sampler's own, or its guider's (whose ``cfg`` is read)."""
    guider = graph.target(inputs.get("guider"))
    if guider is None:
        return inputs.get("positive"), inputs.get("negative"), inputs.get("model")
    g_inputs = guider[3]
    _put(details, "cfg", graph.follow(g_inputs.get("cfg"), _NUMBER_INPUTS)[0])
    positive = g_inputs.get("positive", g_inputs.get("conditioning", g_inputs.get("cond1")))
    return positive, g_inputs.get("negative"), g_inputs.get("model")


def _sampler_node_name(graph: PromptGraph, value: Any) -> Any:
    """The sampler name of a SAMPLER link (KSamplerSelect, the Sampler* nodes), or None."""
    sampler_node = graph.target(value)
    if sampler_node is None:
        return None
    s_class, s_inputs = sampler_node[2], sampler_node[3]
    name = graph.tapped_value(sampler_node[0], s_class, sampler_node[1], "value")
    if name is NO_VALUE:
        name = graph.follow(s_inputs.get("sampler_name"), _STRING_INPUTS)[0]
    if name is None and s_class in _SAMPLER_NODE_NAMES:
        name = _SAMPLER_NODE_NAMES[s_class]
        if s_inputs.get("noise_device") == "gpu":
            name += "_gpu"
    return name


def _read_sigmas(graph: PromptGraph, value: Any, details: dict[str, Any]) -> None:
    """``steps``, ``denoise`` and ``scheduler`` of the scheduler node up a SIGMAS link's chain."""

    def sigmas_step(_index: int, s_class: str, s_inputs: dict[str, Any]) -> tuple[Any, Any]:
        if "steps" in s_inputs:
            _put(details, "steps", graph.follow(s_inputs.get("steps"), _NUMBER_INPUTS)[0])
            _put(details, "denoise", graph.follow(s_inputs.get("denoise"), _NUMBER_INPUTS)[0])
            scheduler = graph.follow(s_inputs.get("scheduler"), _STRING_INPUTS)[0]
            _put(details, "scheduler", scheduler if scheduler is not None else _SCHEDULER_NODE_NAMES.get(s_class))
            return True, None
        return None, s_inputs.get("sigmas")

    if value is not None:
        tapped = graph.walk(value, sigmas_step, want="sigmas")
        if isinstance(tapped, dict):  # a Render Speed Preset's sigmas: the steps/scheduler they were built from
            for key in ("steps", "scheduler", "denoise"):
                _put(details, key, tapped.get(key))


def _read_run_labels(graph: PromptGraph, inputs: dict[str, Any], positive: Any, details: dict[str, Any]) -> None:
    """``speed`` (a Render Speed Preset feeding the sampler) and ``label`` (a variant up ``positive``)."""
    for name in ("steps", "cfg", "sampler_name", "scheduler", "denoise", "sampler", "sigmas"):
        hop = graph.target(inputs.get(name)) if is_link(inputs.get(name)) else None
        if hop is not None:
            speed = graph.tapped_value(hop[0], hop[2], hop[1], "speed")
            if speed is not NO_VALUE:
                _put(details, "speed", speed)
                settings = graph.tapped_value(hop[0], hop[2], hop[1], _MODEL_SETTINGS)
                if isinstance(settings, dict):
                    _put(details, "family", settings.get("family"))
                break

    def label_step(_index: int, _class_type: str, c_inputs: dict[str, Any]) -> tuple[Any, Any]:
        name = next((n for n in CONDITIONING_INPUTS if n in c_inputs), None)
        return None, c_inputs.get(name) if name else None

    if is_link(positive):
        _put(details, "label", graph.walk(positive, label_step, want="label"))


def _read_sampler(graph: PromptGraph, node_id: str, details: dict[str, Any]) -> None:
    """Add what sampler ``node_id`` used to ``details``; a field already there is kept (first found wins)."""
    class_type, inputs = graph.nodes[node_id]
    _read_seed(graph, class_type, inputs, details)
    for name in ("steps", "cfg", "denoise"):
        _put(details, name, graph.follow(inputs.get(name), _NUMBER_INPUTS)[0])
    for name, key in (("sampler_name", "sampler"), ("scheduler", "scheduler")):
        _put(details, key, graph.follow(inputs.get(name), _STRING_INPUTS)[0])
    positive, negative, model_link = _guided_inputs(graph, inputs, details)
    _put(details, "positive", _prompt_text(graph, positive))
    _put(details, "negative", _prompt_text(graph, negative))
    _put(details, "sampler", _sampler_node_name(graph, inputs.get("sampler")))
    _read_sigmas(graph, inputs.get("sigmas"), details)
    size = _latent_size(graph, inputs.get("latent_image"))
    if size is not None:
        _put(details, "width", size[0])
        _put(details, "height", size[1])
        _put(details, "batch_size", size[2])
    _put(details, "model", _model_name(graph, model_link))
    _read_model_settings(graph, model_link, positive, details)
    if graph.tap is not None:
        _read_run_labels(graph, inputs, positive, details)


# -- a whole prompt ------------------------------------------------------------------------


def producing_sampler(prompt: Mapping[str, Any], images: Any, problems: list[str] | None = None) -> str | None:
    """The sampler whose output became ``images`` (a link), walking back through decoders and
    image/latent nodes; None when no sampler is upstream. With two samplers in one graph, each
    image finds its own."""
    graph = PromptGraph(dict(prompt), [] if problems is None else problems)

    seen: set[str] = set()
    value = images
    for _ in range(MAX_LINK_DEPTH):
        hop = graph.target(value)
        if hop is None or hop[0] in seen:
            return None
        node_id, _, class_type, inputs = hop
        if class_type in SAMPLER_CLASSES:
            return node_id
        seen.add(node_id)
        value = next((inputs[n] for n in _IMAGE_CHAIN_INPUTS if is_link(inputs.get(n))), None)
    return None


def details_for_sampler(
    prompt: Mapping[str, Any], sampler_id: str, tap: Tap | None = None, problems: list[str] | None = None
) -> dict[str, Any]:
    """The details one sampler of an API-format ``prompt`` used, with run-time values from ``tap``.

    Like :func:`details_from_comfy_prompt` for a chosen sampler; with a tap, also ``speed`` (from a
    Render Speed Preset feeding the sampler) and ``label`` (from a Prompt Variant Sweep feeding its
    positive conditioning). Not validated: the caller adds its own fields first.
    """
    graph = PromptGraph(dict(prompt), [] if problems is None else problems, tap)
    details: dict[str, Any] = {}
    if sampler_id in graph.nodes:
        _read_sampler(graph, sampler_id, details)
    return details


def image_details(
    prompt: Mapping[str, Any],
    node_id: str,
    element: int,
    batch_size: int,
    tap_for: Callable[[int, int], Tap],
    problems: list[str] | None = None,
) -> tuple[str | None, list[dict[str, Any]]]:
    """The sampler behind output node ``node_id``'s ``images`` input, and the details of each batch
    item of list element ``element`` (``tap_for(element, item)`` gives each item's run-time values).

    ``(None, [{}, …])`` when no sampler made the images. The graph is walked once per item.
    """
    sampler = producing_sampler(prompt, node_inputs(prompt.get(str(node_id))).get("images"), problems)
    if sampler is None:
        return None, [{} for _ in range(batch_size)]
    found = [details_for_sampler(prompt, sampler, tap_for(element, item), problems) for item in range(batch_size)]
    return sampler, found


def details_from_comfy_prompt(
    prompt_json_text: str | bytes, problems: list[str] | None = None, *, max_text: int = MAX_DEFAULT_TEXT
) -> dict[str, Any]:
    """The details of a ComfyUI ``prompt`` chunk (API-format graph JSON), or {} when it has no sampler.

    Reads KSampler, KSamplerAdvanced, SamplerCustom and SamplerCustomAdvanced (through RandomNoise or Seed
    Source noise, CFGGuider/BasicGuider, KSamplerSelect or the Sampler* nodes, BasicScheduler/Karras…).
    Links ``[node_id, output_index]`` are followed: the seed to a literal, Seed Source's ``seed_number``
    (its ``_requested_mode`` gives ``mode``) or a primitive's ``value``; prompts through conditioning
    nodes to CLIPTextEncode ``text``; the size up the latent chain to the first node with width/height;
    the model up ``model`` links to ``ckpt_name``/``unet_name``.

    With several samplers, the one read is the last: no other sampler is fed by it (so a hires-fix second
    pass beats its first pass); ties go to a sampler feeding Seed Details, then one feeding an image
    output, then the highest node id. Each link chain stops after ``MAX_LINK_DEPTH`` hops and at a node
    seen before, so cycles and dangling links just leave fields out (and are noted in ``problems``).
    Raises ``DetailsError`` only when the text is not a JSON object (or is longer than ``max_text``).
    """
    problems = [] if problems is None else problems
    data = load_json(prompt_json_text, "prompt", max_text)
    if not isinstance(data, dict):
        raise DetailsError(f"prompt JSON is {preview(data)}, not an object")
    graph = PromptGraph(data, problems)
    samplers = [n for n, (c, _) in graph.nodes.items() if c in SAMPLER_CLASSES]
    if not samplers:
        problems.append("prompt: no sampler node (KSampler, SamplerCustom…) found")
        return {}
    chosen = _pick_sampler(graph, samplers) if len(samplers) > 1 else samplers[0]
    if len(samplers) > 1:
        problems.append(f"prompt: {len(samplers)} samplers; read node {chosen!r} ({graph.nodes[chosen][0]}), the last")
    details: dict[str, Any] = {}
    _read_sampler(graph, chosen, details)
    return validate_details(details, problems)


def decoder_vae_name(prompt: Mapping[str, Any], images: Any) -> str | None:
    """The VAE file of a VAELoader feeding the decoder of ``images`` (a link), else None (the checkpoint's own).

    The decoder is the first node with a ``vae`` input back along the image chain (image nodes such as
    ImageFromBatch or an upscale may sit between it and ``images``).
    """
    value = images
    for _ in range(MAX_LINK_DEPTH):
        inputs = node_inputs(prompt.get(link_source(value) or ""))
        if "vae" in inputs:
            loader = prompt.get(link_source(inputs["vae"]) or "")
            name = node_inputs(loader).get("vae_name")
            is_loader = isinstance(loader, Mapping) and loader.get("class_type") == "VAELoader"
            return name if is_loader and isinstance(name, str) else None
        value = next((inputs[n] for n in _IMAGE_CHAIN_INPUTS if is_link(inputs.get(n))), None)
        if value is None:
            return None
    return None
