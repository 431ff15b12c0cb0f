"""The Seed Number sidebar panel in the real ComfyUI editor: entries from runs and /history, actions, safety.

Every run goes through the real Run button of the test server's frontend; seeds and file names are
checked against what ``/history`` recorded, pixels against the server's output folder.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tests.browser.comfy_page import READY
from tests.browser.panel_helpers import (
    ENTRY,
    MAX_ENTRIES,
    PANEL,
    POSITIVE,
    SAVE,
    SEED_SOURCE,
    TAB_BUTTON,
    close_panel,
    collect_dialogs,
    get_setting,
    image_of_url,
    load_json,
    open_panel,
    open_small,
    panel_entries,
    prompt_id,
    receipt,
    set_setting,
    wait_for_history_details,
    wait_for_prompt_entries,
)
from tests.paths import ROOT
from tests.server.helpers import pixels

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.comfy_page import ComfyPage

SPEED_PRESET = 9
PANEL_FILES = [
    "panel.js",
    "panel/entries.js",
    "panel/history.js",
    "panel/render.js",
    "panel/store.js",
    "panel/virtual.js",
]
IMG_PAYLOAD = "<img src=x onerror=alert(1)>"
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
TOAST = ".p-toast-message"


def saved(entry: dict[str, Any]) -> list[dict[str, str]]:
    return entry["outputs"][str(SAVE)]["images"]


def entries_of(comfy_page: ComfyPage, run: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in panel_entries(comfy_page.page) if e["prompt_id"] == prompt_id(run)]


def toast_text(comfy_page: ComfyPage, contains: str) -> str:
    toast = comfy_page.page.locator(TOAST, has_text=contains).last
    toast.wait_for(state="visible", timeout=10_000)
    return toast.inner_text()


SCROLL_PANEL = """(top) => {
  const list = document.querySelector('.seed-number-panel .sn-list');
  list.scrollTop = top ? 0 : list.scrollHeight;
}"""


def widen_sidebar(page: Page, width: int) -> None:
    """Drags the sidebar's splitter so the panel is about ``width`` px wide (as a user would)."""
    panel = page.locator(PANEL).bounding_box()
    gutter = page.locator(".p-splitter-gutter").first
    box = gutter.bounding_box()
    if not panel or not box or abs(box["x"] - (panel["x"] + panel["width"])) > 40:
        return  # not the layout this was written for: keep the default width
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(panel["x"] + width, y, steps=8)
    page.mouse.up()


@pytest.mark.no_panel_handle  # as a user's page: no debugging handle
def test_panel_tab_opens_and_registers_settings_commands_and_keys(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    handles = page.evaluate("() => [typeof window.__seedNumberPanel, typeof window.__seedNumberDebug]")
    assert handles == ["undefined", "undefined"]  # the panel installs no global for an ordinary page
    listed = comfy_page.server.get_json("/extensions")
    for name in PANEL_FILES:
        assert f"/extensions/seed-number/{name}" in listed, listed
    assert comfy_page.extension_names().count("SeedNumber.Panel") == 1

    assert page.locator(TAB_BUTTON).count() == 1
    assert page.locator(PANEL).count() == 0
    open_panel(page)
    assert page.locator(f"{PANEL} .sn-title").inner_text().lower() == "seed number"
    assert page.locator(f"{PANEL} .sn-filter").get_attribute("placeholder") == "Filter by seed or text"
    css = page.evaluate("() => getComputedStyle(document.querySelector('.seed-number-panel')).display")
    assert css == "flex", "panel.css did not load"

    commands = page.evaluate("() => app.extensionManager.command.commands.map((c) => c.id)")
    for command in ("SeedNumber.TogglePanel", "SeedNumber.ReuseLastSeed", "Workspace.ToggleSidebarTab.seed-number"):
        assert command in commands
    assert get_setting(page, MAX_ENTRIES) == 200
    setting = page.evaluate(f"() => app.extensionManager.setting.settings[{json.dumps(MAX_ENTRIES)}]")
    assert setting["type"] == "number" and setting["defaultValue"] == 200

    # The sidebar button toggles; so do the command and its key (Alt+S) on the canvas.
    page.locator(TAB_BUTTON).click()
    page.locator(PANEL).wait_for(state="detached")
    page.evaluate("() => app.extensionManager.command.execute('SeedNumber.TogglePanel')")
    page.locator(PANEL).wait_for(state="visible")
    page.locator("#graph-canvas").click(position={"x": 700, "y": 120})
    page.keyboard.press("Alt+s")
    page.locator(PANEL).wait_for(state="detached")
    page.keyboard.press("Alt+s")
    page.locator(PANEL).wait_for(state="visible")

    served = {url: status for url, status in comfy_page.responses.items() if "/extensions/seed-number/" in url}
    assert any(url.endswith("/panel.css") for url in served), served
    assert all(status == 200 for status in served.values()), served
    rules = [status for url, status in comfy_page.responses.items() if url.endswith("/seed_number/graph_rules")]
    assert rules == [200]  # the sampler classes, read once from the server
    assert comfy_page.errors_from_pack() == []


def test_a_run_lists_the_seed_history_recorded(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_small(comfy_page)
    open_panel(page)
    comfy_page.set_batch_count(1)
    (run,) = comfy_page.run()
    seed = receipt(run)["seed"]

    wait_for_prompt_entries(page, prompt_id(run))
    (entry,) = entries_of(comfy_page, run)
    assert entry["seed"] == str(seed)
    (image,) = saved(run)
    assert entry["image"] == {"filename": image["filename"], "subfolder": image["subfolder"], "type": "output"}
    assert panel_entries(page)[0]["prompt_id"] == prompt_id(run), "the newest run must be on top"
    comfy_page.wait_for_used_label(SEED_SOURCE, seed)  # the node shows the same used seed

    # Rebuilt from /history: the queued prompt's text, sampler settings, size and model.
    wait_for_history_details(page, prompt_id(run))
    (entry,) = entries_of(comfy_page, run)
    assert entry["prompt"] == "a lighthouse on a cliff at dusk, dark blue gradient sky"
    assert entry["meta"] == "euler normal · 4 steps · cfg 7 · 64×64 · seed_number_demo_sd15.safetensors"
    assert entry["file"] == f"{image['subfolder']}/{image['filename']}"
    assert page.evaluate("(s) => new URL(s, location.href).pathname", entry["src"]).endswith("/api/view")
    loaded = page.locator(f"{ENTRY}[data-prompt-id='{prompt_id(run)}'] img")
    loaded.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 64", arg=loaded.element_handle())
    with page.context.expect_page() as opened:  # the thumbnail opens the image in a new tab
        loaded.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert image_of_url(tab.url) == entry["image"] and "/api/view" in tab.url
    tab.close()

    # The entries live in a store, not in the DOM: closing and reopening the tab shows them again.
    close_panel(page)
    open_panel(page)
    assert entries_of(comfy_page, run)[0]["seed"] == str(seed)
    assert comfy_page.errors_from_pack() == []


def test_batch_of_three_random_runs_lists_three_seeds_each_with_its_image(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_small(comfy_page)
    open_panel(page)
    comfy_page.set_batch_count(3)
    runs = comfy_page.run(3)

    seeds = []
    for run in runs:
        wait_for_prompt_entries(page, prompt_id(run))
        (entry,) = entries_of(comfy_page, run)
        (image,) = saved(run)
        assert entry["seed"] == str(receipt(run)["seed"])
        assert entry["image"]["filename"] == image["filename"]
        seeds.append(receipt(run)["seed"])
    assert len(set(seeds)) == 3, seeds
    shown = [e["prompt_id"] for e in panel_entries(page) if e["prompt_id"] in {prompt_id(r) for r in runs}]
    assert shown == [prompt_id(r) for r in reversed(runs)], "newest first"
    assert comfy_page.errors_from_pack() == []


def test_use_this_seed_fixes_the_node_and_remakes_the_same_pixels(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_small(comfy_page)
    open_panel(page)
    comfy_page.set_batch_count(1)
    (first,) = comfy_page.run()
    seed = receipt(first)["seed"]
    wait_for_prompt_entries(page, prompt_id(first))
    card = page.locator(f"{ENTRY}[data-prompt-id='{prompt_id(first)}']")

    card.locator(".sn-seed").click()  # the seed itself copies on click
    assert comfy_page.clipboard(str(seed)) == str(seed)
    page.evaluate("() => navigator.clipboard.writeText('something else')")
    card.locator("button[data-action=copy]").click()
    assert comfy_page.clipboard(str(seed)) == str(seed)
    assert card.locator("button[data-action=use-all]").count() == 0, "no render speed recorded: no 'Use all'"

    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "random"
    card.locator("button[data-action=use]").click()
    assert comfy_page.widget(SEED_SOURCE, "seed_number")["value"] == seed
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "fixed"
    assert str(seed) in toast_text(comfy_page, "Seed applied")

    (second,) = comfy_page.run()
    assert receipt(second)["seed"] == seed and receipt(second)["mode"] == "fixed"
    paths = [comfy_page.server.output_path(saved(run)[0]) for run in (first, second)]
    assert paths[0] != paths[1]
    assert np.array_equal(pixels(paths[0]), pixels(paths[1])), "the reused seed did not re-make the image"
    wait_for_prompt_entries(page, prompt_id(second))
    assert entries_of(comfy_page, second)[0]["seed"] == str(seed)

    # A workflow without a Seed Source: nothing changes, a toast says why.
    page.evaluate("() => app.graph.clear()")
    card.locator("button[data-action=use]").click()
    assert "no Seed Source in this workflow" in toast_text(comfy_page, "Seed not set")
    assert comfy_page.errors_from_pack() == []


def test_reload_lists_the_entries_from_history_and_reuse_last_seed_key(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_small(comfy_page)
    comfy_page.set_batch_count(1)
    (run,) = comfy_page.run()
    seed = receipt(run)["seed"]

    page.reload()
    page.wait_for_function(READY, timeout=60_000)
    open_panel(page)
    wait_for_prompt_entries(page, prompt_id(run))
    (entry,) = entries_of(comfy_page, run)
    assert entry["seed"] == str(seed)
    assert entry["prompt"] == "a lighthouse on a cliff at dusk, dark blue gradient sky"
    assert panel_entries(page)[0]["prompt_id"] == prompt_id(run)

    # Alt+Shift+R: reuse the newest seed in the list.
    comfy_page.load_workflow(load_json("seed_source_txt2img.json"))
    page.locator("#graph-canvas").click(position={"x": 700, "y": 120})
    page.keyboard.press("Alt+Shift+R")
    page.wait_for_function(
        "([id, s]) => app.graph.getNodeById(id).widgets.find((w) => w.name === 'seed_number').value === s",
        arg=[SEED_SOURCE, seed],
    )
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "fixed"
    assert comfy_page.errors_from_pack() == []


def test_prompt_and_file_name_payloads_render_as_text(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    dialogs = collect_dialogs(page)
    prompt = f"{IMG_PAYLOAD} {SCRIPT_PAYLOAD} a lighthouse"
    prefix = f"{IMG_PAYLOAD}{SCRIPT_PAYLOAD}"  # its "/" makes a subfolder: both parts are shown
    open_small(comfy_page)
    comfy_page.set_widget(POSITIVE, "text", prompt)
    comfy_page.set_widget(SAVE, "filename_prefix", prefix)
    open_panel(page)
    comfy_page.set_batch_count(1)
    (run,) = comfy_page.run()
    (image,) = saved(run)
    assert image["subfolder"] == "<img src=x onerror=alert(1)><script>window.__pwned=1<", image

    wait_for_history_details(page, prompt_id(run))
    (entry,) = entries_of(comfy_page, run)
    assert entry["prompt"] == prompt
    assert entry["file"] == f"{prefix}_00001_.png" == f"{image['subfolder']}/{image['filename']}"
    assert entry["image"] == {"filename": image["filename"], "subfolder": image["subfolder"], "type": "output"}
    thumb = page.locator(f"{ENTRY}[data-prompt-id='{prompt_id(run)}'] img")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 64", arg=thumb.element_handle())

    # Synthetic Seed Details records carrying the payloads in every text field go through the same path.
    page.evaluate(
        """(p) => { const h = window.__seedNumberPanel;
          const details = [{seed: 7, label: p, model: p, sampler: p, positive: p, speed: p,
                            reproducible: {verdict: p, reasons: [p]}, image: {filename: p, subfolder: p}}];
          h.addEntries(h.buildEntries('xss-synthetic', {'1': {seed_number_details: details}}, {time: Date.now()}));
          h.render(); }""",
        SCRIPT_PAYLOAD + IMG_PAYLOAD,
    )
    page.locator(f"{ENTRY}[data-prompt-id='xss-synthetic']").wait_for()
    page.evaluate("() => new Promise((r) => setTimeout(r, 500))")  # give an injected handler time to fire

    assert dialogs == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator(f"{PANEL} script").count() == 0
    assert page.locator(f"{PANEL} img").evaluate_all("(imgs) => imgs.every((i) => !i.hasAttribute('onerror'))")
    text = page.locator(PANEL).inner_text()
    assert prompt in text and f"{prefix}_00001_.png" in text
    synthetic = next(e for e in panel_entries(page) if e["prompt_id"] == "xss-synthetic")
    payload = SCRIPT_PAYLOAD + IMG_PAYLOAD
    assert synthetic["prompt"] == payload and synthetic["tags"] == [payload, payload]
    assert synthetic["note"] == f"{payload}: {payload}"
    assert payload in synthetic["meta"]
    assert comfy_page.errors_from_pack() == []


def test_seed_details_records_make_one_entry_per_image(comfy_page: ComfyPage) -> None:
    """The builder for the upcoming Seed Details node, fed a synthetic outputs object."""
    page = comfy_page.page
    outputs = {
        "12": {
            "seed_number_details": [
                {
                    "seed": 406220,
                    "mode": "random",
                    "positive": "a lighthouse, dark blue gradient sky " * 8,
                    "label": "blue",
                    "speed": "Turbo",
                    "steps": 12,
                    "cfg": 7.0,
                    "sampler": "dpmpp_2m",
                    "scheduler": "karras",
                    "width": 512,
                    "height": 512,
                    "batch_index": 1,
                    "model": "sd15.safetensors",
                    "reproducible": {"verdict": "exact", "reasons": ["CPU noise", "non-ancestral sampler"]},
                    "seed_node": "5:3",
                    "image": {"filename": "a.png", "subfolder": "s", "type": "temp"},
                },
                {"seed": 406221, "reproducibility_note": "ancestral sampler: same device only"},
                {"label": "no seed"},
            ]
        },
        "13": {"seed_number_receipt": [{"seed": 1, "node": "5"}], "images": [{"filename": "ignored.png"}]},
    }
    built = page.evaluate(
        "(o) => window.__seedNumberPanel.buildEntries('details-synthetic', o, {number: 3, time: Date.now()})", outputs
    )
    assert [e["seed"] for e in built] == [406220, 406221, None]
    first = built[0]
    assert (first["label"], first["speed"], first["steps"], first["cfg"], first["batchIndex"]) == (
        "blue",
        "Turbo",
        12,
        7,
        1,
    )
    assert first["seedNode"] == "5:3" and first["image"] == {"filename": "a.png", "subfolder": "s", "type": "temp"}
    assert first["note"] == "exact: CPU noise; non-ancestral sampler" and first["verdict"] == "exact"
    assert built[1]["note"] == "ancestral sampler: same device only" and built[1]["image"] is None

    open_panel(page)
    page.evaluate("(b) => { window.__seedNumberPanel.addEntries(b); window.__seedNumberPanel.render(); }", built)
    page.locator(f"{ENTRY}[data-prompt-id='details-synthetic']").first.wait_for()
    shown = [e for e in panel_entries(page) if e["prompt_id"] == "details-synthetic"]
    assert [e["seed"] for e in shown] == ["406220", "406221", "—"]
    assert shown[0]["tags"] == ["Turbo", "blue"]
    assert shown[0]["meta"] == "dpmpp_2m karras · 12 steps · cfg 7 · 512×512 · batch #1 · sd15.safetensors"
    assert shown[0]["image"] == {"filename": "a.png", "subfolder": "s", "type": "temp"}
    assert shown[0]["actions"] == ["copy", "use", "use-all"]
    assert shown[1]["actions"] == ["copy", "use"] and shown[1]["image"] is None
    # The long prompt is clamped, and expands in place.
    card = page.locator(f"{ENTRY}[data-prompt-id='details-synthetic']").first
    clamped = card.locator(".sn-prompt").evaluate("(p) => p.scrollHeight > p.clientHeight")
    assert clamped
    card.locator(".sn-more").click()
    assert card.locator(".sn-more").inner_text() == "less"
    assert card.locator(".sn-prompt").evaluate("(p) => p.scrollHeight <= p.clientHeight + 1")

    # A long list: only the cards in and around view exist; far-down cards (and their thumbnails)
    # come when scrolled to, and the cards scrolled away are dropped with their images.
    listed = page.evaluate(
        """() => { const h = window.__seedNumberPanel;
          const details = Array.from({length: 80}, (_, i) => ({seed: i, image: {filename: `missing_${i}.png`}}));
          h.addEntries(h.buildEntries('long-synthetic', {'1': {seed_number_details: details}}, {time: 1}));
          return h.render(); }"""
    )
    assert listed >= 83
    assert 0 < page.locator(ENTRY).count() < listed
    page.evaluate("() => document.activeElement.blur()")  # a card holding the focus would stay in the DOM
    assert page.locator(f"{ENTRY} .sn-img[src*='missing_79.png']").count() == 0, "a far-down thumbnail must wait"
    first_key = page.locator(ENTRY).first.get_attribute("data-key")
    for _ in range(5):  # heights measured on the way down can lengthen the list: scroll until it stops
        page.evaluate(SCROLL_PANEL, False)
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    last = page.locator(ENTRY).last
    assert last.get_attribute("data-prompt-id") == "long-synthetic"
    assert last.get_attribute("aria-posinset") == str(listed)
    assert image_of_url(last.locator(".sn-img").get_attribute("src"))["filename"] == "missing_79.png"
    assert page.locator(f"{ENTRY}[data-key='{first_key}']").count() == 0, "cards scrolled away are dropped"
    page.evaluate(SCROLL_PANEL, True)
    page.locator(f"{ENTRY}[data-key='{first_key}']").wait_for()
    assert comfy_page.errors_from_pack() == []


def test_noise_source_and_variation_are_shown_with_the_seed(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    outputs = {
        "12": {
            "seed_number_details": [
                {"seed": 7, "steps": 4, "variation_seed": 17, "variation_strength": 0.2, "noise_source": "a1111 gpu"},
                {"seed": 8, "steps": 4, "noise_source": "comfy"},
            ]
        }
    }
    built = page.evaluate(
        "(o) => window.__seedNumberPanel.buildEntries('noise-synthetic', o, {time: Date.now()})", outputs
    )
    assert (built[0]["noiseSource"], built[0]["variationSeed"], built[0]["variationStrength"]) == ("a1111 gpu", 17, 0.2)
    open_panel(page)
    page.evaluate("(b) => { window.__seedNumberPanel.addEntries(b); window.__seedNumberPanel.render(); }", built)
    page.locator(f"{ENTRY}[data-prompt-id='noise-synthetic']").first.wait_for()
    shown = [e for e in panel_entries(page) if e["prompt_id"] == "noise-synthetic"]
    assert [e["meta"] for e in shown] == ["4 steps · var 17 @ 0.2 · a1111 gpu noise", "4 steps"]
    receipt_built = page.evaluate(
        """() => window.__seedNumberPanel.buildEntries('noise-receipt', {'5': {seed_number_receipt: [
             {seed: 3, seeds: [3], node: '5', noise_source: 'a1111 cpu', variation_seed: 9, variation_strength: 0.5}]},
             '9': {images: [{filename: 'x.png', subfolder: '', type: 'output'}]}}, {time: Date.now()})"""
    )
    assert (receipt_built[0]["noiseSource"], receipt_built[0]["variationSeed"]) == ("a1111 cpu", 9)
    assert comfy_page.errors_from_pack() == []


def test_filter_clear_and_max_entries(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_small(comfy_page)
    open_panel(page)
    comfy_page.set_batch_count(2)
    runs = comfy_page.run(2)
    for run in runs:
        wait_for_prompt_entries(page, prompt_id(run))
    seed = str(receipt(runs[0])["seed"])

    box = page.locator(f"{PANEL} .sn-filter")
    box.fill(seed)
    page.wait_for_function(
        "(s) => [...document.querySelectorAll('.sn-entry .sn-seed')].every((e) => e.textContent.includes(s))", arg=seed
    )
    assert prompt_id(runs[0]) in [e["prompt_id"] for e in panel_entries(page)]
    assert prompt_id(runs[1]) not in [e["prompt_id"] for e in panel_entries(page)]
    assert " of " in page.locator(f"{PANEL} .sn-count").inner_text()
    box.fill("LIGHTHOUSE dusk")
    page.wait_for_function("() => document.querySelectorAll('.sn-entry').length >= 2")
    assert all("lighthouse" in (e["prompt"] or "") for e in panel_entries(page))
    box.fill("no such text anywhere")
    page.locator(f"{PANEL} .sn-empty", has_text="Nothing matches").wait_for()
    box.fill("")
    page.wait_for_function("() => document.querySelectorAll('.sn-entry').length >= 2")

    try:
        set_setting(page, MAX_ENTRIES, 1)
        page.wait_for_function("() => document.querySelectorAll('.sn-entry').length === 1")
        assert panel_entries(page)[0]["prompt_id"] == prompt_id(runs[1]), "the cap keeps the newest"
    finally:
        set_setting(page, MAX_ENTRIES, 200)
    page.wait_for_function("() => document.querySelectorAll('.sn-entry').length >= 2")  # read again from /history

    page.locator(f"{PANEL} button[data-action=clear]").click()
    page.wait_for_function("() => document.querySelectorAll('.sn-entry').length === 0")
    page.locator(f"{PANEL} .sn-empty", has_text="No generations yet").wait_for()
    assert page.locator(f"{PANEL} .sn-count").inner_text() == "0"
    # Cleared stays cleared over a reload (the history is not read back in); new runs appear.
    page.reload()
    page.wait_for_function(READY, timeout=60_000)
    open_panel(page)
    page.evaluate("() => window.__seedNumberPanel.reload()")
    assert page.locator(ENTRY).count() == 0
    open_small(comfy_page)
    comfy_page.set_batch_count(1)
    (run,) = comfy_page.run()
    wait_for_prompt_entries(page, prompt_id(run))
    assert [e["prompt_id"] for e in panel_entries(page)] == [prompt_id(run)]
    assert comfy_page.errors_from_pack() == []


def test_ladder_use_all_sets_seed_and_speed_and_screenshot(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    open_small(comfy_page, "render_speed_ladder.json", steps=None)
    open_panel(page)
    comfy_page.set_batch_count(1)
    (run,) = comfy_page.run()
    seed = receipt(run)["seed"]
    wait_for_prompt_entries(page, prompt_id(run), count=3)  # three speeds; the contact sheet is left out
    wait_for_history_details(page, prompt_id(run))
    entries = entries_of(comfy_page, run)
    assert [e["tags"] for e in entries] == [["Turbo"], ["Default"], ["Quality"]]
    assert [e["image"]["filename"] for e in entries] == [i["filename"] for i in saved(run)]
    assert all(e["seed"] == str(seed) for e in entries)
    assert entries[2]["meta"].startswith("dpmpp_2m karras · 40 steps · cfg 7 · 64×64"), entries[2]["meta"]

    card = page.locator(f"{ENTRY}[data-prompt-id='{prompt_id(run)}']").nth(2)
    card.locator("button[data-action=use-all]").click()
    assert comfy_page.widget(SEED_SOURCE, "seed_number")["value"] == seed
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "fixed"
    assert comfy_page.widget(SPEED_PRESET, "speed")["value"] == "Quality"
    assert "speed Quality" in toast_text(comfy_page, "Settings applied")

    page.locator(TOAST).first.wait_for(state="detached", timeout=15_000)
    widen_sidebar(page, 380)
    page.evaluate(SCROLL_PANEL, True)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.seed-number-panel .sn-img')].slice(0, 3).every((i) => i.complete)"
    )
    shot = comfy_page.screenshot("panel.png")
    assert shot.stat().st_size > 10_000
    if os.environ.get("SEED_NUMBER_UPDATE_DOCS") == "1":
        docs = ROOT / "docs" / "images"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, docs / "panel.png")
    assert comfy_page.errors_from_pack() == []
