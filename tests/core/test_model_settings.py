"""The model file names Render Speed Preset reads from the graph, and guidance on conditioning."""

from __future__ import annotations

from seed_number.nodes.core.model_settings import MAX_HOPS, model_file_names, with_guidance


def test_file_names_follow_the_model_link_through_loras_and_patches() -> None:
    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "qwen_image_fp8.safetensors", "weight_dtype": "x"}},
        "2": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": "Lightning-8steps.st"}},
        "3": {"class_type": "ModelSamplingAuraFlow", "inputs": {"model": ["2", 0], "shift": 3.1}},
        "4": {"class_type": "CLIPLoader", "inputs": {"clip_name": "not_on_the_model_link.safetensors"}},
        "9": {"class_type": "RenderSpeedPreset|SeedNumber", "inputs": {"model": ["3", 0]}},
    }
    assert model_file_names(prompt, "9") == ["Lightning-8steps.st", "qwen_image_fp8.safetensors"]
    assert model_file_names(prompt, 9) == model_file_names(prompt, "9")


def test_file_names_never_raise_on_odd_graphs() -> None:
    loop = {"1": {"inputs": {"model": ["2", 0], "ckpt_name": "a"}}, "2": {"inputs": {"model": ["1", 0]}}}
    loop["9"] = {"inputs": {"model": ["1", 0]}}
    assert model_file_names(loop, "9") == ["a"]
    chain = {str(i): {"inputs": {"model": [str(i + 1), 0], "lora_name": f"l{i}"}} for i in range(1, 500)}
    chain["0"] = {"inputs": {"model": ["1", 0]}}
    assert len(model_file_names(chain, "0")) == MAX_HOPS
    for prompt in (None, [], {"9": None}, {"9": {"inputs": []}}, {"9": {"inputs": {"model": "x"}}}):
        assert model_file_names(prompt, "9") == []
    assert model_file_names({"9": {"inputs": {"model": ["7", 0]}}, "7": 5}, "9") == []


def test_guidance_is_set_on_copies_of_each_entry() -> None:
    tensor = object()
    cond = [[tensor, {"pooled_output": 1}], [tensor, {"guidance": 9.0}]]
    out = with_guidance(cond, 3.5)
    assert out == [[tensor, {"pooled_output": 1, "guidance": 3.5}], [tensor, {"guidance": 3.5}]]
    assert out[0][0] is tensor and cond == [[tensor, {"pooled_output": 1}], [tensor, {"guidance": 9.0}]]
