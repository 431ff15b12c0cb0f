"""The Seed Number panel at any history size, in the real editor (real Chromium, real ComfyUI server).

Issue 15: a virtual list (only the cards in and around view in the DOM), /history read in pages
newest first as the list is scrolled, one unreadable history item costing only itself, live runs
arriving on top without moving the view, filter and keyboard over 10,000 entries. Issue 11 item 8:
one history item with 150,000 images. The large histories are answered to the page by
``ServedHistory`` (``panel_helpers.py``) with ComfyUI's own paging rules; the live run is a real run.
These tests assert behaviour only; the timings are in ``benchmarks/bench_panel.py``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.comfy_page import READY
from tests.browser.panel_helpers import (
    ENTRY,
    MAX_ENTRIES,
    PANEL,
    ServedHistory,
    close_panel,
    collect_dialogs,
    history_item,
    make_history,
    open_panel,
    open_small,
    panel_entries,
    panel_node_count,
    prompt_id,
    receipt,
    scroll_list,
    set_setting,
    wait_for_prompt_entries,
    wait_frames,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page

    from tests.browser.comfy_page import ComfyPage

DOM_BOUND = 1000
"""Elements inside the panel with 10,000 entries listed, wherever the list is scrolled: the header
(about 10) and the cards in and around view (a card is 15-25 elements; about 10 cards fit the
tallest sidebar plus 240 px above and below). All 10,000 cards would be about 200,000."""

IMG_PAYLOAD = "<img src=x onerror=alert(1)>"
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
FILTER = f"{PANEL} .sn-filter"
COUNT = f"{PANEL} .sn-count"

STORED = "window.__seedNumberPanel.store.entries.length"
STORE_COUNT = f"() => {STORED}"
PAGER_IDLE = "() => { const p = window.__seedNumberPanel.pager; return !!p && !p.loading; }"


@pytest.fixture
def max_entries(comfy_page: ComfyPage) -> Iterator[Any]:
    """Sets the MaxEntries setting (a server-side user setting) and puts the default back afterwards."""
    page = comfy_page.page

    def put(value: int) -> None:
        set_setting(page, MAX_ENTRIES, value)

    yield put
    set_setting(page, MAX_ENTRIES, 200)


def reload_with(comfy_page: ComfyPage, items: list[tuple[str, Any]]) -> ServedHistory:
    """Reloads the editor with ``items`` as the server's history, and opens the panel."""
    page = comfy_page.page
    served = ServedHistory(page, items)
    page.reload()
    page.wait_for_function(READY, timeout=60_000)
    open_panel(page)
    page.wait_for_function(PAGER_IDLE)
    return served


def first_visible(page: Page) -> dict[str, Any]:
    """The first card whose top is inside the list's visible part: its key and top on screen."""
    return page.evaluate(
        """() => { const list = document.querySelector('.seed-number-panel .sn-list');
          const top = list.getBoundingClientRect().top;
          const cards = [...list.querySelectorAll('.sn-entry')]
            .map((c) => ({key: c.dataset.key, top: c.getBoundingClientRect().top}))
            .filter((c) => c.top >= top).sort((a, b) => a.top - b.top);
          return cards[0]; }"""
    )


def focused(page: Page) -> dict[str, Any] | None:
    return page.evaluate(
        """() => { const e = document.activeElement;
          if (!e?.classList.contains('sn-entry')) return null;
          const list = e.closest('.sn-list').getBoundingClientRect(), box = e.getBoundingClientRect();
          return {pos: Number(e.getAttribute('aria-posinset')), size: Number(e.getAttribute('aria-setsize')),
                  seed: e.querySelector('.sn-seed').textContent, tabindex: e.tabIndex,
                  visible: box.top >= list.top - 1 && box.bottom <= list.bottom + 1}; }"""
    )


def test_ten_thousand_entries_paged_virtual_keyboard_filter(comfy_page: ComfyPage, max_entries: Any) -> None:
    page = comfy_page.page
    total = 10_000
    max_entries(total)
    served = reload_with(comfy_page, make_history(2_500, per_item=4))  # 2,500 runs of 4 images

    # Paged: the first page only (newest first), and only the cards in view in the DOM.
    first_page = page.evaluate(STORE_COUNT)
    assert 0 < first_page < total, first_page
    ours = [q for q in served.requests if q.get("max_items") != ["64"]]  # 64: the editor's own queue panel
    assert ours == [{"max_items": ["100"]}], ours
    assert page.locator(ENTRY).first.locator(".sn-seed").inner_text() == str(10_000_000 + 2_499 * 4)
    assert page.get_attribute(f"{PANEL} .sn-list", "role") == "feed"
    assert page.locator(ENTRY).first.get_attribute("aria-setsize") == "-1", "more history may come"
    assert panel_node_count(page) < DOM_BOUND

    # Scrolling down reads older pages, until the oldest run is at the bottom.
    for _ in range(200):
        scroll_list(page, None)
        page.wait_for_function(PAGER_IDLE)
        if page.evaluate("() => window.__seedNumberPanel.pager.done"):
            break
    for _ in range(5):  # cards measured on the way down may lengthen the list
        scroll_list(page, None)
    assert page.evaluate(STORE_COUNT) == total
    assert page.locator(COUNT).inner_text() == str(total)
    last = panel_entries(page)[-1]
    assert last["seed"] == str(10_000_003), "the oldest run's last image is the last entry"
    assert last["prompt"] == "history item 0"
    assert page.locator(ENTRY).last.get_attribute("aria-posinset") == str(total)
    assert page.locator(ENTRY).last.get_attribute("aria-setsize") == str(total)
    assert page.locator(f"{ENTRY} .sn-img[src]").count() == page.locator(ENTRY).count() <= 30
    assert panel_node_count(page) < DOM_BOUND
    ours = [q for q in served.requests if q.get("max_items") != ["64"]]
    pages = [q for q in ours if q["max_items"] != ["1"]]
    assert len(pages) in (25, 26), pages  # 2,500 items, 100 a page (counted to within half a page)
    assert len(ours) - len(pages) <= 2 * 5 + 1, f"{len(ours) - len(pages)} one-item probes to count 2,500 items"

    # Keyboard: the cards are a feed; one of them is the tab stop, arrows and Home/End move focus.
    page.locator(ENTRY).last.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.activeElement?.getAttribute('aria-posinset') === '1'")
    got = focused(page)
    assert got == {"pos": 1, "size": total, "seed": str(10_009_996), "tabindex": 0, "visible": True}, got
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focused(page)["pos"] == 3
    page.keyboard.press("PageUp")
    assert focused(page)["pos"] == 2
    page.keyboard.press("End")
    page.wait_for_function(f"() => document.activeElement?.getAttribute('aria-posinset') === '{total}'")
    got = focused(page)
    assert got["visible"] and got["seed"] == str(10_000_003), got
    assert page.locator(f"{ENTRY}[tabindex='0']").count() == 1, "one tab stop (roving tabindex)"
    page.keyboard.press("ArrowUp")
    assert focused(page)["pos"] == total - 1
    assert panel_node_count(page) < DOM_BOUND

    # Filter over the 10,000, then clear it: back to every entry, at the top.
    box = page.locator(FILTER)
    box.fill("10004321")
    page.wait_for_function(f"() => document.querySelector('{COUNT}').textContent === '1 of {total}'")
    assert [e["seed"] for e in panel_entries(page)] == ["10004321"]
    box.fill("ITEM 1234")  # every word, any case, in the seed or text: run 1234's 4 images, and seed 10001234
    page.wait_for_function(f"() => document.querySelector('{COUNT}').textContent === '5 of {total}'")
    shown = panel_entries(page)
    assert [e["prompt"] for e in shown] == ["history item 1234"] * 4 + ["history item 308"]
    assert shown[-1]["seed"] == "10001234"
    box.fill("no such text")
    page.locator(f"{PANEL} .sn-empty", has_text="Nothing matches").wait_for()
    assert page.locator(ENTRY).count() == 0
    box.fill("")
    page.wait_for_function(f"() => document.querySelector('{COUNT}').textContent === '{total}'")
    assert page.evaluate("() => document.querySelector('.seed-number-panel .sn-list').scrollTop") == 0
    assert panel_entries(page)[0]["seed"] == str(10_009_996)
    assert panel_node_count(page) < DOM_BOUND
    assert comfy_page.errors_from_pack() == []


def test_a_live_run_while_scrolled_appears_on_top_without_moving_the_view(comfy_page: ComfyPage) -> None:
    """Also: reopening the tab comes back to the same card."""
    page = comfy_page.page
    open_small(comfy_page)
    ServedHistory(page, make_history(300, per_item=4))  # 1,200 entries: the default MaxEntries keeps 200
    open_panel(page)
    page.evaluate("() => window.__seedNumberPanel.reload()")
    page.wait_for_function(f"() => {STORED} === 200")
    scroll_list(page, 6_000)
    before = first_visible(page)
    scroll_top = page.evaluate("() => document.querySelector('.seed-number-panel .sn-list').scrollTop")
    assert scroll_top > 5_000, scroll_top

    comfy_page.set_batch_count(1)
    (run,) = comfy_page.run()
    page.wait_for_function(
        "(id) => window.__seedNumberPanel.store.entries[0]?.promptId === id", arg=prompt_id(run), timeout=20_000
    )
    wait_frames(page, 3)
    after = first_visible(page)
    assert after["key"] == before["key"], (before, after)
    assert abs(after["top"] - before["top"]) <= 1, f"the view moved: {before} -> {after}"
    assert page.evaluate("() => document.querySelector('.seed-number-panel .sn-list').scrollTop") > scroll_top

    # Closing and opening the tab again comes back to the same place.
    close_panel(page)
    open_panel(page)
    wait_frames(page, 3)
    again = first_visible(page)
    assert again["key"] == before["key"] and abs(again["top"] - before["top"]) <= 1, (before, again)

    scroll_list(page, 0)
    wait_for_prompt_entries(page, prompt_id(run))
    assert panel_entries(page)[0]["prompt_id"] == prompt_id(run)
    assert panel_entries(page)[0]["seed"] == str(receipt(run)["seed"])
    assert comfy_page.errors_from_pack() == []


MALFORMED: list[Any] = [
    None,
    "not an item",
    12345,
    [1, 2, 3],
    {},
    {"outputs": "junk", "prompt": "junk", "status": "junk"},
    {"outputs": {"5": {"seed_number_receipt": "junk"}, "8": {"images": [None, 1, "x", {"filename": 7}]}}},
    {"outputs": {"5": {"seed_number_receipt": [None, 3]}, "8": {"images": {"0": {}}}}, "status": {"messages": 7}},
    {"outputs": {"5": None, "8": []}, "prompt": [None, None, {"6": None, "7": {"inputs": "x"}}, None, None]},
    {"outputs": {"5": {"seed_number_details": [None, 3, "x", []]}}, "prompt": [1, 2, [], {}, []]},
]


def test_malformed_history_items_among_5000_cost_only_themselves(comfy_page: ComfyPage, max_entries: Any) -> None:
    page = comfy_page.page
    dialogs = collect_dialogs(page)
    items = make_history(5_000)
    payload = f"{SCRIPT_PAYLOAD} {IMG_PAYLOAD} xss-marker"
    xss = history_item("hist-xss", 2_600, 1_600_000_000_000 + 2_600 * 1000 + 500, [77_777_777], text=payload)
    xss["outputs"]["8"]["images"][0].update(filename=f"{IMG_PAYLOAD}.png", subfolder=SCRIPT_PAYLOAD)
    # The bad items sit between good ones, in different pages.
    positions = [1, 499, 1_000, 1_777, 2_500, 3_001, 3_333, 4_100, 4_900, 4_999]
    for n, (at, bad) in enumerate(zip(positions, MALFORMED, strict=True)):
        items.insert(at + n, (f"bad-{n}", bad))
    items.insert(2_601 + len(positions), ("hist-xss", xss))
    max_entries(6_000)
    reload_with(comfy_page, items)
    page.evaluate("() => window.__seedNumberPanel.loadAll()")
    assert page.evaluate("() => window.__seedNumberPanel.pager.done")

    seeds = page.evaluate("() => window.__seedNumberPanel.store.entries.map((e) => e.seed)")
    assert len(seeds) == 5_001
    assert sorted(seeds) == [*range(10_000_000, 10_005_000), 77_777_777], "every good item, once each"
    assert page.locator(f"{PANEL} .sn-count").inner_text() == "5001"

    # The payloads of a history item are text on its card.
    page.locator(FILTER).fill("xss-marker")
    page.wait_for_function("() => document.querySelector('.seed-number-panel .sn-count').textContent === '1 of 5001'")
    page.wait_for_timeout(500)  # time for an injected handler to fire
    (card,) = panel_entries(page)
    assert card["prompt"] == payload
    assert card["file"] == f"{SCRIPT_PAYLOAD}/{IMG_PAYLOAD}.png"
    assert dialogs == [] and page.evaluate("() => window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0 and page.locator(f"{PANEL} script").count() == 0
    assert comfy_page.errors_from_pack() == []


def test_one_history_item_with_150000_images_costs_only_itself(comfy_page: ComfyPage) -> None:
    """Issue 11 item 8: ``push(...images)`` threw RangeError on this item and no history was listed at all."""
    page = comfy_page.page
    items = make_history(3)
    big_seeds = list(range(500_000_000, 500_150_000))
    big = history_item("hist-big", 3, 1_600_000_000_000 + 3_000, big_seeds, prefix="big")
    items.append(("hist-big", big))
    items += [
        (f"hist-{i:06d}", history_item(f"hist-{i:06d}", i, 1_600_000_000_000 + i * 1000, [10_000_000 + i]))
        for i in (4, 5)
    ]
    assert len(json.dumps(big)) > 10_000_000
    reload_with(comfy_page, items)
    page.wait_for_function(f"() => {STORED} === 200")  # the default MaxEntries: the newest 200

    entries = page.evaluate(
        "() => window.__seedNumberPanel.store.entries.map((e) => [e.promptId, e.seed, e.image?.filename])"
    )
    assert [e[0] for e in entries[:2]] == ["hist-000005", "hist-000004"]
    assert entries[2] == ["hist-big", 500_000_000, "big_000003_0.png"]
    assert entries[-1] == ["hist-big", 500_000_197, "big_000003_197.png"]
    shown = panel_entries(page)
    assert [e["seed"] for e in shown[:3]] == ["10000005", "10000004", "500000000"]
    assert "sweep: 500000000 … 500149999 (150000 seeds)" in page.locator(ENTRY).nth(2).inner_text()

    # With room for 100,000 entries the big item fills the list; the older items stay out (the newest are kept).
    set_setting(page, MAX_ENTRIES, 100_000)
    try:
        page.wait_for_function(f"() => {STORED} === 100000", timeout=60_000)
        page.evaluate("() => window.__seedNumberPanel.loadAll()")
        ids = page.evaluate("() => [...new Set(window.__seedNumberPanel.store.entries.map((e) => e.promptId))]")
        assert ids == ["hist-000005", "hist-000004", "hist-big"], "a full list keeps the newest"
        assert panel_node_count(page) < DOM_BOUND
    finally:
        set_setting(page, MAX_ENTRIES, 200)
    assert comfy_page.errors_from_pack() == []
