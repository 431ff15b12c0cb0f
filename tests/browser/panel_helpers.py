"""Helpers for the Seed Number panel's browser tests and its benchmark: open the tab, read its entries."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from tests.paths import ROOT, WORKFLOWS

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

    from tests.browser.comfy_page import ComfyPage

SEED_SOURCE, POSITIVE, LATENT, SAMPLER, SAVE = 5, 2, 4, 6, 8
"""Node ids in the example workflows."""
RECEIPT = "seed_number_receipt"
PANEL_MODULES = ROOT / "web" / "panel"
"""The panel's pure ES modules, which the Node test scripts import."""
TAB_ID = "seed-number"
TAB_BUTTON = f".{TAB_ID}-tab-button"
PANEL = ".seed-number-panel"
ENTRY = f"{PANEL} .sn-entry"
MAX_ENTRIES = "SeedNumber.Panel.MaxEntries"
PANEL_HANDLE_OPT_IN = "window.__seedNumberDebug = true;"
"""An init script: the panel installs its debugging handle ``window.__seedNumberPanel`` (which the
tests and the benchmark drive) only in a page that sets this before the extensions load."""

# Read once the panel has settled: cards are built light and completed (buttons, image) a frame later;
# the cards still waiting for that frame are completed first.
ENTRIES = """() => {
  window.__seedNumberPanel?.panel?.vlist.completeNow();
  return Array.from(document.querySelectorAll('.seed-number-panel .sn-entry')).map((e) => {
  const text = (selector) => e.querySelector(selector)?.textContent ?? null;
  return {
    key: e.dataset.key,
    prompt_id: e.dataset.promptId,
    seed: text('.sn-seed'),
    src: e.querySelector('.sn-img')?.getAttribute('src') ?? e.querySelector('.sn-thumb')?.dataset.src ?? null,
    prompt: text('.sn-prompt'),
    meta: text('.sn-meta'),
    tags: Array.from(e.querySelectorAll('.sn-tag')).map((t) => t.textContent),
    note: text('.sn-note'),
    file: text('.sn-file'),
    actions: Array.from(e.querySelectorAll('.sn-actions button')).map((b) => b.dataset.action),
  };
});
}"""


def collect_dialogs(page: Page) -> list[str]:
    """The messages of every dialog ``page`` opens from now on, each dismissed (an XSS payload that ran
    would open one: the list must stay empty)."""
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def open_panel(page: Page) -> None:
    """Opens the Seed Number sidebar tab with a click on its button (no-op when it is open)."""
    if page.locator(PANEL).count() == 0:
        page.locator(TAB_BUTTON).click()
    page.locator(PANEL).wait_for(state="visible")


def close_panel(page: Page) -> None:
    if page.locator(PANEL).count():
        page.locator(TAB_BUTTON).click()
    page.locator(PANEL).wait_for(state="detached")


def panel_entries(page: Page) -> list[dict[str, Any]]:
    """The entries the panel shows, top to bottom, with the image named by each thumbnail's URL."""
    entries = page.evaluate(ENTRIES)
    for entry in entries:
        entry["image"] = image_of_url(entry["src"]) if entry["src"] else None
    return entries


def image_of_url(url: str) -> dict[str, str]:
    query = parse_qs(urlparse(url).query, keep_blank_values=True)
    return {key: query[key][0] for key in ("filename", "subfolder", "type") if key in query}


def wait_for_prompt_entries(page: Page, prompt_id: str, count: int = 1, timeout: float = 20_000) -> None:
    page.wait_for_function(
        '([id, n]) => document.querySelectorAll(`.seed-number-panel .sn-entry[data-prompt-id="${id}"]`).length === n',
        arg=[prompt_id, count],
        timeout=timeout,
    )


def wait_for_history_details(page: Page, prompt_id: str, timeout: float = 20_000) -> None:
    """Waits until the live entry was rebuilt from /history (which adds the prompt text and size)."""
    page.wait_for_function(
        """(id) => { const e = document.querySelector(`.seed-number-panel .sn-entry[data-prompt-id="${id}"]`);
          return !!e && !!e.querySelector('.sn-prompt'); }""",
        arg=prompt_id,
        timeout=timeout,
    )


def set_setting(page: Page, key: str, value: Any) -> None:
    page.evaluate("async ([k, v]) => { await app.extensionManager.setting.set(k, v); }", [key, value])


def get_setting(page: Page, key: str) -> Any:
    return page.evaluate("(k) => app.extensionManager.setting.get(k)", key)


def load_json(name: str) -> dict[str, Any]:
    return json.loads((WORKFLOWS / name).read_text())


def open_small(comfy_page: ComfyPage, name: str = "seed_source_txt2img.json", steps: int | None = 4) -> None:
    """An example workflow shrunk to 64x64 (and ``steps`` steps) so a CPU run takes about a second."""
    comfy_page.load_workflow(load_json(name))
    comfy_page.set_widget(LATENT, "width", 64)
    comfy_page.set_widget(LATENT, "height", 64)
    if steps is not None:
        comfy_page.set_widget(SAMPLER, "steps", steps)


def receipt(entry: dict[str, Any]) -> dict[str, Any]:
    """The Seed Source receipt of a finished run (exactly one; an assertion naming the outputs otherwise)."""
    receipts = entry["outputs"].get(str(SEED_SOURCE), {}).get(RECEIPT)
    assert receipts and len(receipts) == 1, f"no single Seed Source receipt in {entry['outputs']}"
    return receipts[0]


def prompt_id(entry: dict[str, Any]) -> str:
    return entry["prompt"][1]


# -- a large /history, served to the page in place of the server's ---------------------------------
#
# The panel reads /history in pages. Thousands of real runs would take hours on a CPU, and a
# malformed item cannot be made by running prompts, so the large-list tests answer the page's
# /history requests themselves, with ComfyUI's own paging rules (below). Everything else (the
# editor, /history/<id>, the runs the tests queue) is the real server's.

LIST_PANEL = """() => document.querySelector('.seed-number-panel .sn-list')"""


def history_page(items: list[tuple[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    """The answer of ComfyUI 0.3.64 to ``GET /history?max_items=N&offset=K`` over ``items`` (oldest first).

    As ``execution.py`` ``PromptQueue.get_history``: offset defaults to -1; a negative offset with
    ``max_items`` means the newest ``max_items``; otherwise items ``offset`` … ``offset+max_items-1``
    counted from the oldest, oldest first.
    """
    max_items = int(query["max_items"][0]) if "max_items" in query else None
    offset = int(query["offset"][0]) if "offset" in query else -1
    if offset < 0 and max_items is not None:
        offset = len(items) - max_items
    out: dict[str, Any] = {}
    for i, (key, item) in enumerate(items):
        if i >= offset:
            out[key] = item
            if max_items is not None and len(out) >= max_items:
                break
    return out


class ServedHistory:
    """Answers the page's ``/history?…`` requests from ``items`` (a list of (prompt id, item), oldest first)."""

    def __init__(self, page: Page, items: list[tuple[str, Any]]) -> None:
        self.page = page
        self.items = items
        self.requests: list[dict[str, list[str]]] = []
        self.encoded: dict[str, str] = {}
        page.route("**/history?**", self.handle)

    def handle(self, route: Any) -> None:
        url = urlparse(route.request.url)
        if not url.path.endswith("/history"):
            route.fallback()
            return
        query = parse_qs(url.query)
        self.requests.append(query)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(history_page(self.items, query)))

    def stop(self) -> None:
        self.page.unroute("**/history?**", self.handle)


def history_item(
    prompt_id: str, number: int, time_ms: int, seeds: list[int], *, text: str = "", prefix: str = "hist"
) -> dict[str, Any]:
    """A /history item as ComfyUI records a Seed Source run: its receipt and one saved image per seed."""
    graph = {
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text or f"history item {number}", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": len(seeds)}},
        "5": {"class_type": "SeedSource", "inputs": {"seed_number": seeds[0], "mode": "fixed", "count": len(seeds)}},
        "6": {
            "class_type": "KSampler",
            "inputs": {
                "seed": ["5", 0],
                "steps": 4,
                "cfg": 7,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1,
                "positive": ["2", 0],
                "negative": ["2", 0],
                "latent_image": ["4", 0],
                "model": ["1", 0],
            },
        },
    }
    receipt = {"seed": seeds[0], "mode": "fixed", "node": "5"}
    if len(seeds) > 1:
        receipt["seeds"] = seeds
    images = [
        {"filename": f"{prefix}_{number:06d}_{k}.png", "subfolder": "", "type": "output"} for k in range(len(seeds))
    ]
    return {
        "prompt": [number, prompt_id, graph, {"client_id": "someone"}, ["8"]],
        "outputs": {"5": {"seed_number_receipt": [receipt]}, "8": {"images": images}},
        "status": {
            "status_str": "success",
            "completed": True,
            "messages": [
                ["execution_start", {"timestamp": time_ms - 500}],
                ["execution_success", {"timestamp": time_ms}],
            ],
        },
        "meta": {},
    }


def make_history(count: int, per_item: int = 1, *, start_ms: int = 1_600_000_000_000) -> list[tuple[str, Any]]:
    """``count`` items, oldest first, ``per_item`` images each; item i's seeds are 10_000_000 + i·per_item + k."""
    items = []
    for i in range(count):
        seeds = [10_000_000 + i * per_item + k for k in range(per_item)]
        items.append((f"hist-{i:06d}", history_item(f"hist-{i:06d}", i, start_ms + i * 1000, seeds)))
    return items


def panel_node_count(page: Page) -> int:
    return page.evaluate("() => document.querySelectorAll('.seed-number-panel *').length")


def wait_frames(page: Page, frames: int = 2) -> None:
    page.evaluate(
        "(n) => new Promise((r) => { const f = (k) => k ? requestAnimationFrame(() => f(k - 1)) : r(); f(n); })", frames
    )


def scroll_list(page: Page, top: float | None) -> None:
    """Scrolls the panel's list to ``top`` px (None: to the bottom) and waits for the next frames."""
    page.evaluate(
        "(t) => { const l = document.querySelector('.seed-number-panel .sn-list'); "
        "l.scrollTop = t === null ? l.scrollHeight : t; }",
        top,
    )
    wait_frames(page)


# -- queueing from the page, card actions ------------------------------------------------------------

QUEUE_FROM_PAGE = """async (prompt) => {
  const api = window.comfyAPI.api.api;
  const response = await api.fetchApi('/prompt', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({prompt, client_id: api.clientId}),
  });
  return {status: response.status, body: await response.json()};
}"""


def queue_from_page(page: Page, prompt: dict[str, Any]) -> str:
    """POSTs an API prompt as this tab's (its client id): its results come to this tab's panel live."""
    answer = page.evaluate(QUEUE_FROM_PAGE, prompt)
    assert answer["status"] == 200, f"POST /prompt answered {answer['status']}: {json.dumps(answer['body'])[:2000]}"
    return answer["body"]["prompt_id"]


def card_action(page: Page, key: str, action: str, *, keyboard: bool = False) -> Any:
    """Clicks the ``action`` button of the card of entry ``key`` (or, ``keyboard``, focuses it and
    presses Enter: the way to reach a button that is ``aria-disabled``, which Playwright does not
    click) and returns what the action resolved to."""
    button = page.locator(f'{ENTRY}[data-key="{key}"] button[data-action="{action}"]')
    if keyboard:
        button.focus()
        button.press("Enter")
    else:
        button.click()
    return page.evaluate("() => window.__seedNumberPanel.settled()")


def run_node_tests(tmp_path: Path, name: str, script: str, panel: Path, timeout: float) -> None:
    """Run ``script`` (a node:test module importing the panel's pure modules from ``PANEL_DIR``) under
    Node 20+; skip without Node; fail with its output when a test fails."""
    import pytest

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"node {version}: the test runner needs 20+")
    path = tmp_path / name
    path.write_text(script)
    done = subprocess.run(
        [node, "--test", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PANEL_DIR": panel.as_uri(), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
