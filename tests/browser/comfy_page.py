"""One signed-in ComfyUI tab for the browser tier (:class:`ComfyPage`, made by the ``comfy_page``
fixture in ``conftest.py``), the editor scripts it runs and the browser settings the fixtures use."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.paths import ARTIFACTS
from tools.comfy_server import ComfyServer

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Error, Page

PACK_URL_PART = "/extensions/seed-number/"
"""Every file of ours that the frontend loads is served under this path."""
EXTENSION_NAME = "SeedNumber.SeedSource"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
READY = """() => {
  const app = window.app;
  return !!(app && app.graph && app.canvas && app.extensionManager?.workflow?.isBusy === false
    && app.graph.nodes.length > 0);
}"""
"""The editor is set up (extensions registered) and its first workflow is open."""

WIDGETS = """(id) => app.graph.getNodeById(id)?.widgets?.map((w) => ({
  name: w.name, type: w.type, value: w.value ?? null, label: w.label ?? null, serialize: w.serialize ?? null,
})) ?? null"""

SET_WIDGET = """([id, name, value]) => {
  const node = app.graph.getNodeById(id);
  const w = node.widgets.find((x) => x.name === name);
  if (!w) throw new Error(`node ${id} has no widget ${name}`);
  w.value = value;
  node.setDirtyCanvas(true, true);
}"""

USED_LABEL_IS = """([id, label]) =>
  app.graph.getNodeById(id).widgets.find((w) => w.name === "used")?.label === label"""

WIDGET_CENTER = """([id, name]) => {
  const node = app.graph.getNodeById(id);
  const w = node.widgets.find((x) => x.name === name);
  const canvas = app.canvas;
  const rect = canvas.canvas.getBoundingClientRect();
  const height = w.computedHeight ?? w.height ?? LiteGraph.NODE_WIDGET_HEIGHT;
  const [x, y] = canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + w.y + height / 2]);
  return { x: rect.left + x, y: rect.top + y, rect: [rect.left, rect.top, rect.right, rect.bottom] };
}"""


class ComfyPage:
    """One signed-in ComfyUI tab: a Playwright page, the console it logged, and editor helpers."""

    def __init__(self, page: Page, server: ComfyServer) -> None:
        self.page = page
        self.server = server
        self.console: list[ConsoleMessage] = []
        self.page_errors: list[Error] = []
        self.responses: dict[str, int] = {}
        self._last_click = 0.0
        page.on("console", lambda message: self.console.append(message))
        page.on("pageerror", lambda error: self.page_errors.append(error))
        page.on("response", lambda response: self.responses.__setitem__(response.url, response.status))

    # -- loading ----------------------------------------------------------------------------
    def goto(self) -> ComfyPage:
        self.page.goto(self.server.url + "/")
        self.page.wait_for_function(READY, timeout=60_000)
        names = self.extension_names()
        assert EXTENSION_NAME in names, (
            f"{EXTENSION_NAME} is not registered; errors naming our files: {self.errors_from_pack()}"
        )
        return self

    def extension_names(self) -> list[str]:
        return self.page.evaluate("() => window.app.extensions.map((e) => e.name)")

    def errors_from_pack(self) -> list[str]:
        """Console errors and uncaught exceptions that name one of our files."""
        found = [
            f"console {m.type}: {m.text} at {m.location.get('url')}"
            for m in self.console
            if m.type in ("error", "assert") and (PACK_URL_PART in m.text or PACK_URL_PART in m.location.get("url", ""))
        ]
        found += [
            f"uncaught: {e.message}\n{e.stack}"
            for e in self.page_errors
            if PACK_URL_PART in (e.stack or "") or PACK_URL_PART in e.message
        ]
        return found

    def load_workflow(self, workflow: dict[str, Any]) -> None:
        self.page.evaluate("async (wf) => { await window.app.loadGraphData(wf); }", workflow)
        self.page.wait_for_function("() => window.app.extensionManager.workflow.isBusy === false")

    def client_id(self) -> str:
        return self.page.evaluate("() => window.comfyAPI.api.api.clientId")

    # -- widgets ----------------------------------------------------------------------------
    def widgets(self, node_id: int) -> list[dict[str, Any]]:
        widgets = self.page.evaluate(WIDGETS, node_id)
        assert widgets is not None, f"node {node_id} is not in the graph"
        return widgets

    def widget(self, node_id: int, name: str) -> dict[str, Any]:
        found = [w for w in self.widgets(node_id) if w["name"] == name]
        assert found, f"node {node_id} has no widget {name!r}: {self.widgets(node_id)}"
        return found[0]

    def set_widget(self, node_id: int, name: str, value: Any) -> None:
        self.page.evaluate(SET_WIDGET, [node_id, name, value])

    def click_widget(self, node_id: int, name: str) -> None:
        """A real mouse click on a canvas widget (LiteGraph draws widgets, there is no DOM to click)."""
        self.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        spot = self.page.evaluate(WIDGET_CENTER, [node_id, name])
        left, top, right, bottom = spot["rect"]
        assert left < spot["x"] < right and top < spot["y"] < bottom, f"widget {name} is off the canvas: {spot}"
        # Two clicks on one spot within the double-click interval would be a double click.
        pause = self._last_click + 0.5 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.page.mouse.click(spot["x"], spot["y"])
        self._last_click = time.monotonic()

    def wait_for_used_label(self, node_id: int, seed: int, timeout: float = 15_000) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                USED_LABEL_IS,
                arg=[node_id, f"used: {seed}"],
                timeout=timeout,
            )
        except PlaywrightTimeout:
            label = self.widget(node_id, "used")["label"]
            raise AssertionError(f"node {node_id} shows {label!r}, not 'used: {seed}'") from None

    def drawn_used_labels(self) -> set[str]:
        self.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return set(self.page.evaluate("() => Array.from(window.__seedNumberDrawn ?? [])"))

    def clipboard(self, expected: str, timeout: float = 5.0) -> str:
        """The clipboard's text once it equals ``expected`` (the copy is asynchronous), else its last text."""
        deadline = time.monotonic() + timeout
        text = self.page.evaluate("() => navigator.clipboard.readText()")
        while text != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            text = self.page.evaluate("() => navigator.clipboard.readText()")
        return text

    # -- queueing ---------------------------------------------------------------------------
    def set_batch_count(self, count: int) -> None:
        """Type into the batch count box beside the Run button, as a user does."""
        box = self.page.locator(".batch-count input[role=spinbutton]")
        box.click()
        box.press("ControlOrMeta+a")
        box.press_sequentially(str(count))
        box.press("Tab")
        assert box.get_attribute("aria-valuenow") == str(count), "the batch count box did not take the value"

    def click_run(self) -> None:
        self.page.locator('[data-testid="queue-button"] button[aria-label="Run"]').click()

    def run(self, count: int = 1) -> list[dict[str, Any]]:
        """Press Run and return the ``count`` finished history entries of this tab, oldest first."""
        before = self.history_ids()
        self.click_run()
        return self.wait_for_runs(before, count)

    def history_ids(self) -> set[str]:
        return set(self.server.get_json("/history"))

    def wait_for_runs(self, before: set[str], count: int, timeout: float = 120.0) -> list[dict[str, Any]]:
        """The ``count`` history entries this tab queued since ``before``, finished, oldest first."""
        client_id = self.client_id()
        deadline = time.monotonic() + timeout
        mine: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            history = self.server.get_json("/history")
            mine = [
                entry
                for key, entry in history.items()
                if key not in before and entry["prompt"][3].get("client_id") == client_id
            ]
            if len(mine) >= count and all(e.get("status", {}).get("completed") is not None for e in mine):
                queue = self.server.get_json("/queue")
                waiting = [
                    item
                    for item in queue["queue_running"] + queue["queue_pending"]
                    if item[3].get("client_id") == client_id
                ]
                if not waiting:  # so that a surplus run would be counted below
                    break
            time.sleep(0.2)
        else:
            raise AssertionError(f"{len(mine)} of {count} runs finished within {timeout:.0f}s")
        mine.sort(key=lambda e: e["prompt"][0])
        assert len(mine) == count, f"expected {count} runs from this tab, the server got {len(mine)}"
        failed = [e["status"] for e in mine if e["status"].get("status_str") != "success"]
        assert not failed, f"runs failed: {json.dumps(failed)[:3000]}"
        return mine

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path
