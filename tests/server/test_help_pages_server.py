"""Every node of the pack has a help page where ComfyUI's frontend looks for it."""

from __future__ import annotations

from tests.paths import ROOT
from tools.comfy_server import ComfyServer


def test_every_node_has_a_help_page_at_the_frontend_url(comfy_server: ComfyServer) -> None:
    info = comfy_server.get_json("/object_info")
    ours = sorted(name for name, spec in info.items() if spec.get("category") == "Seed Number")
    assert {"SeedSource|SeedNumber", "RenderSpeedPreset|SeedNumber", "SeedDetails|SeedNumber"} <= set(ours)
    for node_id in ours:
        for path in (
            f"/extensions/seed-number/docs/{node_id}.md",
            f"/extensions/seed-number/docs/{node_id.replace('|', '%7C')}.md",
        ):
            status, body = comfy_server.request("GET", path)
            assert status == 200, path
            text = body.decode("utf-8")
            assert text.startswith(f"# {info[node_id]['display_name']}\n"), (node_id, text[:80])
            assert text == (ROOT / "web" / "docs" / f"{node_id.split('|')[0]}.md").read_text(encoding="utf-8")
    status, _ = comfy_server.request("GET", "/extensions/seed-number/docs/Nope|SeedNumber.md")
    assert status == 404
    status, _ = comfy_server.request("GET", "/extensions/seed-number/docs/..%2F..%2Fpyproject.toml")
    assert status == 404


def test_graph_rules_tell_the_panel_the_sampler_classes(comfy_server: ComfyServer) -> None:
    rules = comfy_server.get_json("/seed_number/graph_rules")
    assert rules == {"sampler_classes": ["KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"]}
    info = comfy_server.get_json("/object_info")
    assert all(name in info for name in rules["sampler_classes"])  # real ComfyUI node classes
