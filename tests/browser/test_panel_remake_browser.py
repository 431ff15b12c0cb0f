"""The panel's per-entry re-make actions (issue 14, part 3) in the real ComfyUI editor.

Re-make queues an image's re-make prompt (Seed Details' ``remake_prompt``, read from
``/history/<id>`` when clicked); Vary queues it with a new random variation seed at the strength of
the ``SeedNumber.Panel.VaryStrength`` setting; Copy prompt and Copy API prompt fill the clipboard.
Runs are a 64x64, 3-step Seed Source (noise) -> SamplerCustomAdvanced -> VAE Decode -> Seed Details
graph with the demo checkpoint; results are compared by the pixels of the saved PNGs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image

from tests.browser.panel_helpers import (
    ENTRY,
    PANEL_MODULES,
    card_action,
    get_setting,
    open_panel,
    panel_entries,
    queue_from_page,
    run_node_tests,
    set_setting,
    wait_for_history_details,
    wait_for_prompt_entries,
)
from tests.prompts import DETAILS_NODE, SEED_NODE, details_prompt

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

    from tests.browser.comfy_page import ComfyPage

SEED, SAMPLER, DETAILS = SEED_NODE, "14", DETAILS_NODE
VARY_STRENGTH = "SeedNumber.Panel.VaryStrength"
TOAST = ".p-toast-message"
POSITIVE = "a lighthouse on a cliff at dusk, dark blue gradient sky"


@pytest.fixture(autouse=True)
def forget_runs(comfy_page: ComfyPage) -> Iterator[None]:
    """Deletes this test's runs from the server's history afterwards: the other panel tests of the
    session list /history, and some look for their synthetic entries at the end of the list."""
    before = comfy_page.history_ids()
    yield
    new = sorted(comfy_page.history_ids() - before)
    if new:
        comfy_page.server.request("POST", "/history", {"delete": new})


def noise_prompt(seed: int, prefix: str) -> dict[str, Any]:
    """Seed Source (noise) -> SamplerCustomAdvanced -> VAE Decode -> Seed Details, 64x64.

    Seed Source gets only ``seed_number`` and ``mode``: the re-make prompt then differs from the
    queued one (it adds ``count: 1``), so ComfyUI runs it instead of answering from its cache.
    """
    prompt = details_prompt(prefix, seed=seed)
    prompt[SEED]["inputs"] = {"seed_number": seed, "mode": "fixed"}
    return prompt


def record_of(run: dict[str, Any]) -> dict[str, Any]:
    (record,) = run["outputs"][DETAILS]["seed_number_details"]
    return record


def pixels(comfy_page: ComfyPage, record: dict[str, Any]) -> np.ndarray:
    with Image.open(comfy_page.server.output_path(record["image"])) as im:
        return np.asarray(im.convert("RGB")).copy()


def toast_text(page: Page, contains: str) -> str:
    toast = page.locator(TOAST, has_text=contains).last
    toast.wait_for(state="visible", timeout=10_000)
    return toast.inner_text()


def listed_run(comfy_page: ComfyPage, seed: int, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run queued from the page (its results come to this tab), and its card once /history rebuilt it."""
    page = comfy_page.page
    open_panel(page)
    before = comfy_page.history_ids()
    queue_from_page(page, noise_prompt(seed, prefix))
    (run,) = comfy_page.wait_for_runs(before, 1)
    prompt_id = run["prompt"][1]
    wait_for_prompt_entries(page, prompt_id)
    wait_for_history_details(page, prompt_id)
    (card,) = [e for e in panel_entries(page) if e["prompt_id"] == prompt_id]
    return run, card


def queued_by_action(comfy_page: ComfyPage, key: str, action: str) -> dict[str, Any]:
    """Clicks a card's Re-make or Vary: the run it queued (this tab's), finished, and its card."""
    page = comfy_page.page
    before = comfy_page.history_ids()
    assert card_action(page, key, action) is True, f"{action} queued nothing"
    (run,) = comfy_page.wait_for_runs(before, 1)
    wait_for_prompt_entries(page, run["prompt"][1])
    return run


def test_remake_queues_the_images_remake_prompt_and_gives_the_same_pixels(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    original, card = listed_run(comfy_page, 406220, "panel_remake")
    record = record_of(original)
    assert card["actions"] == ["copy", "use", "remake", "vary", "copy-prompt", "copy-api"]
    button = page.locator(f'{ENTRY}[data-key="{card["key"]}"] button[data-action="remake"]')
    assert button.get_attribute("aria-label").startswith("Queue this image's re-make prompt")
    assert button.get_attribute("aria-disabled") is None

    again = queued_by_action(comfy_page, card["key"], "remake")
    assert "seed 406220" in toast_text(page, "Re-make queued")
    queued = again["prompt"][2]
    assert queued[SEED]["inputs"]["seed_number"] == 406220 and queued[SEED]["inputs"]["mode"] == "fixed"
    assert set(queued) == set(record["remake_prompt"]), "the re-make prompt, not the original prompt"
    remade = record_of(again)
    assert np.array_equal(pixels(comfy_page, remade), pixels(comfy_page, record)), "Re-make changed the pixels"
    assert remade["image"] != record["image"]
    (shown,) = [e for e in panel_entries(page) if e["prompt_id"] == again["prompt"][1]]
    assert shown["seed"] == "406220" and shown["file"] == f"tests/{remade['image']['filename']}"
    assert comfy_page.errors_from_pack() == []


def test_vary_queues_a_new_variation_seed_at_the_set_strength(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    assert get_setting(page, VARY_STRENGTH) == 0.25
    original, card = listed_run(comfy_page, 406221, "panel_vary")
    record = record_of(original)
    assert "var " not in (card["meta"] or "")

    varied = queued_by_action(comfy_page, card["key"], "vary")
    got = record_of(varied)
    assert got["seed"] == 406221, "the base seed stays"
    assert got["variation_strength"] == 0.25 and isinstance(got["variation_seed"], int)
    assert 0 <= got["variation_seed"] <= 2**53 - 1
    inputs = varied["prompt"][2][SEED]["inputs"]
    assert (inputs["variation_seed"], inputs["variation_strength"]) == (got["variation_seed"], 0.25)
    assert inputs.get("noise_source", "comfy") == record["remake_prompt"][SEED]["inputs"].get("noise_source", "comfy")
    assert f"var {got['variation_seed']} @ 0.25" in toast_text(page, "Variation queued")
    assert not np.array_equal(pixels(comfy_page, got), pixels(comfy_page, record)), "Vary gave the same image"
    wait_for_history_details(page, varied["prompt"][1])
    (shown,) = [e for e in panel_entries(page) if e["prompt_id"] == varied["prompt"][1]]
    assert shown["seed"] == "406221"
    assert f"var {got['variation_seed']} @ 0.25" in shown["meta"], shown["meta"]

    # The setting sets the strength; a second Vary draws another variation seed.
    set_setting(page, VARY_STRENGTH, 0.6)
    again = record_of(queued_by_action(comfy_page, card["key"], "vary"))
    assert again["variation_strength"] == 0.6 and again["seed"] == 406221
    assert again["variation_seed"] != got["variation_seed"]
    assert comfy_page.errors_from_pack() == []


def test_copy_prompt_and_copy_api_prompt_fill_the_clipboard(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    original, card = listed_run(comfy_page, 406222, "panel_copy")
    remake = record_of(original)["remake_prompt"]

    assert card_action(page, card["key"], "copy-prompt") is True
    assert comfy_page.clipboard(POSITIVE) == POSITIVE
    assert "Prompt copied" in toast_text(page, "Prompt copied")

    page.evaluate("() => navigator.clipboard.writeText('something else')")
    assert card_action(page, card["key"], "copy-api") is True
    text = page.evaluate("() => navigator.clipboard.readText()")
    assert json.loads(text) == remake
    assert text.startswith('{\n  "') and text == page.evaluate("(p) => JSON.stringify(p, null, 2)", remake)
    assert comfy_page.errors_from_pack() == []


# -- entries without a re-make prompt: a toast says why, nothing is queued --------------------------

SYNTHETIC_IMAGE = {"filename": "synthetic_00001_.png", "subfolder": "", "type": "output"}


def synthetic_record(remake: Any = ..., **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"seed": 77, "steps": 3, "positive": "synthetic", "image": SYNTHETIC_IMAGE, **fields}
    if remake is not ...:
        record["remake_prompt"] = remake
    return record


KSAMPLER_REMAKE = {
    SEED: {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 77, "mode": "fixed"}},
    "6": {"class_type": "KSampler", "inputs": {"seed": [SEED, 0]}},
}


def serve_history(page: Page, prompt_id: str, record: dict[str, Any]) -> None:
    """Answers the page's GET /history/<prompt_id> with one Seed Details record."""
    item = {"prompt": [1, prompt_id, {}, {}, [DETAILS]], "outputs": {DETAILS: {"seed_number_details": [record]}}}
    body = json.dumps({prompt_id: item})
    page.route(
        f"**/history/{prompt_id}", lambda route: route.fulfill(status=200, content_type="application/json", body=body)
    )


def add_entries(page: Page, prompt_id: str, outputs: dict[str, Any]) -> list[dict[str, Any]]:
    built = page.evaluate(
        "([id, o]) => window.__seedNumberPanel.buildEntries(id, o, {time: Date.now()})", [prompt_id, outputs]
    )
    page.evaluate("(b) => { window.__seedNumberPanel.addEntries(b); window.__seedNumberPanel.render(); }", built)
    page.locator(f"{ENTRY}[data-prompt-id='{prompt_id}']").first.wait_for()
    return [e for e in panel_entries(page) if e["prompt_id"] == prompt_id]


def test_entries_without_a_remake_prompt_say_why_and_queue_nothing(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_panel(page)
    posts: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/prompt"):
            posts.append(request.url)

    page.on("request", on_request)
    why = page.evaluate("() => window.__seedNumberPanel.WHY")
    cases = [
        # (prompt id, record, action, toast title, reason)
        ("syn-null", synthetic_record(None), "remake", "Re-make not queued", why["none"]),
        ("syn-null-api", synthetic_record(None), "copy-api", "Could not copy", why["none"]),
        (
            "syn-ksampler",
            synthetic_record(KSAMPLER_REMAKE, seed_node=SEED),
            "vary",
            "Variation not queued",
            why["vary"],
        ),
    ]
    for prompt_id, record, action, title, reason in cases:
        serve_history(page, prompt_id, record)
        (card,) = add_entries(page, prompt_id, {DETAILS: {"seed_number_details": [record]}})
        button = page.locator(f'{ENTRY}[data-key="{card["key"]}"] button[data-action="{action}"]')
        assert button.get_attribute("aria-disabled") == "true" and button.get_attribute("title") == reason
        assert card_action(page, card["key"], action, keyboard=True) is False
        assert title in toast_text(page, reason)

    # A re-make prompt the entry knew of, but its run is gone from the server's history.
    record = synthetic_record(KSAMPLER_REMAKE)
    (card,) = add_entries(page, "syn-gone", {DETAILS: {"seed_number_details": [record]}})
    assert card_action(page, card["key"], "remake") is False
    assert "Re-make not queued" in toast_text(page, why["gone"])

    # An entry built from a Seed Source receipt (no Seed Details), and one from a record saved before
    # re-make prompts (no `remake_prompt`): no re-make buttons at all.
    receipt = {SEED: {"seed_number_receipt": [{"seed": 5, "node": SEED}]}, "9": {"images": [SYNTHETIC_IMAGE]}}
    (card,) = add_entries(page, "syn-receipt", receipt)
    assert card["actions"] == ["copy", "use"]
    (card,) = add_entries(page, "syn-old", {DETAILS: {"seed_number_details": [synthetic_record()]}})
    assert card["actions"] == ["copy", "use"]
    assert posts == [], "something was queued"
    assert comfy_page.errors_from_pack() == []


# -- remake.js's pure functions under Node ----------------------------------------------------------

SCRIPT = r"""
import { test } from "node:test";
import assert from "node:assert/strict";
const dir = process.env.PANEL_DIR;
const { REMAKE, WHY, clampStrength, randomVariationSeed, recordOf, remakeOf, remakeState, varySource, withVariation } =
  await import(`${dir}/remake.js`);
const { buildEntries, detailsRecords } = await import(`${dir}/entries.js`);

const prompt = () => ({
  5: { class_type: "SeedSource|SeedNumber", inputs: { seed_number: 7, mode: "fixed", noise_source: "a1111 cpu" } },
  14: { class_type: "SamplerCustomAdvanced", inputs: { noise: ["5", 1] } },
});

test("states from the record", () => {
  assert.equal(remakeState({}), null);
  assert.equal(remakeState({ remake_prompt: null }), REMAKE.NONE);
  assert.equal(remakeState({ remake_prompt: prompt() }), REMAKE.VARY);
  const ks = { 5: prompt()[5], 6: { class_type: "KSampler", inputs: { seed: ["5", 0] } } };
  assert.equal(remakeState({ remake_prompt: ks }), REMAKE.REMAKE);
  const seedOut = { 5: prompt()[5], 14: { class_type: "SamplerCustomAdvanced", inputs: { noise: ["5", 0] } } };
  assert.equal(remakeState({ remake_prompt: seedOut }), REMAKE.REMAKE);
  assert.equal(remakeState({ remake_prompt: prompt(), seed_node: "9" }), REMAKE.REMAKE); // another source
  assert.equal(remakeState({ remake_prompt: prompt(), sampler_node: "14", seed_node: "5" }), REMAKE.VARY);
});

test("entries keep the state, not the prompt; records in entry order", () => {
  const outputs = { 10: { seed_number_details: [{ seed: 2, remake_prompt: prompt(), image: { filename: "b.png" } }] },
                    9: { seed_number_details: [{ seed: 1, remake_prompt: null }] },
                    11: { seed_number_details: [{ seed: 3 }] } };
  const entries = buildEntries("p", outputs, {});
  assert.deepEqual(entries.map((e) => [e.seed, e.remake]), [[1, REMAKE.NONE], [2, REMAKE.VARY], [3, null]]);
  assert.ok(!JSON.stringify(entries).includes("SamplerCustomAdvanced"));
  const records = detailsRecords(outputs);
  assert.equal(remakeOf(records, entries[1]).prompt[14].class_type, "SamplerCustomAdvanced");
  assert.deepEqual(remakeOf(records, entries[0]), { reason: WHY.none });
  assert.deepEqual(remakeOf(null, entries[1]), { reason: WHY.gone });
  assert.deepEqual(recordOf(records, { ...entries[1], remake: null }), { reason: WHY.receipt });
  assert.deepEqual(remakeOf(records, { ...entries[1], image: { filename: "other.png" } }), { reason: WHY.changed });
});

test("a variation changes only the Seed Source's variation inputs, on a copy", () => {
  const p = prompt();
  const { prompt: varied, node } = withVariation(p, { seed_node: "5" }, 2 ** 53 - 1, 0.25);
  assert.equal(node, "5");
  assert.deepEqual(varied[5].inputs, { ...p[5].inputs, variation_seed: 2 ** 53 - 1, variation_strength: 0.25 });
  assert.equal(p[5].inputs.variation_seed, undefined);
  assert.deepEqual(withVariation({ 6: { class_type: "KSampler", inputs: {} } }, {}, 1, 0.25), { reason: WHY.vary });
  assert.throws(() => withVariation(p, {}, -1, 0.25), RangeError);
  assert.equal(varySource(null), null);
});

test("strength and seed ranges", () => {
  assert.deepEqual([0, 0.005, 0.25, 0.3333333, 1, 7, NaN, "x", null].map((v) => clampStrength(v)),
                   [0.01, 0.01, 0.25, 0.3333, 1, 1, 0.25, 0.25, 0.25]);
  for (let i = 0; i < 1000; i++) {
    const s = randomVariationSeed();
    assert.ok(Number.isSafeInteger(s) && s >= 0);
  }
});
"""


def test_remake_module_under_node(tmp_path: Path) -> None:
    run_node_tests(tmp_path, "remake.test.mjs", SCRIPT, PANEL_MODULES, timeout=120)
