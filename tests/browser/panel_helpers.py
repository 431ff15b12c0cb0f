"""Helpers for the Seed Number panel's browser tests and its benchmark: open the tab, read its entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
TAB_ID = "seed-number"
TAB_BUTTON = f".{TAB_ID}-tab-button"
PANEL = ".seed-number-panel"
ENTRY = f"{PANEL} .sn-entry"
MAX_ENTRIES = "SeedNumber.Panel.MaxEntries"

ENTRIES = """() => Array.from(document.querySelectorAll('.seed-number-panel .sn-entry')).map((e) => {
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
})"""


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
    return json.loads((ROOT / "workflows" / name).read_text())
