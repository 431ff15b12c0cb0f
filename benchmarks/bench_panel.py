"""Benchmark (not a test): the Seed Number panel at 100 / 10,000 / 100,000 entries in real Chromium.

Run: ``python -m benchmarks.bench_panel`` in the test venv (COMFYUI_PATH set, Debian's chromium
installed). Starts a headless ComfyUI with the pack and the demo checkpoint, opens its editor in
headless Chromium, builds 100,000 synthetic entries (Seed Details records with prompts, labels,
speeds, reproducibility notes and thumbnails) through the panel's debugging handle
``window.__seedNumberPanel`` (installed because the page sets ``window.__seedNumberDebug`` first),
and measures, in one page:

- **first paint**: the panel built from nothing, as opening the sidebar tab does (``remount()``:
  header, list, positions for every entry, the visible cards built, measured and placed), plus the
  style and layout it forces; no card height known beforehand. The cards are built light (text and
  the thumbnail's box); their buttons and image requests follow in the next frame: timed apart
  (``completing``). The previous run's panel is torn
  down (and its element emptied) before the timer starts, as closing the tab does: opening a tab
  never removes a panel. Beside it, same run, same sidebar:
  20 bare text rows (seed, prompt, file name) built and laid out, alternating with the panel's
  runs. Goal: ≤ 1.5× that at every size,
  ≤ 16 ms at 100,000. Median of ``RUNS`` after one warm-up.
- **scrolling** 10,000 entries: per frame, the list's scroll work (moving the view 150 px, building
  the cards that come into view and completing them (which the list does in the next frame: here in
  the same one), dropping those that left, style and layout) — goal ≤ 8 ms a frame;
  also a jump of 20 screens in one frame (every card new, as when dragging the scroll bar).
- **a filter keystroke** over 100,000 entries: what the (debounced) filter does for one more
  character, plus style and layout, over a typed sequence. Goal ≤ 30 ms.
- **DOM elements** in the panel with 10,000 entries, at the top, middle and bottom (the browser
  tests hold it under ``DOM_BOUND``), and the **JS heap** with 100,000 entries (after a GC, CDP
  ``Runtime.getHeapUsage``) beside the same page with the panel empty.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 10_000, 100_000)
RUNS = 15
BASELINE_ROWS = 20
FIRST_PAINT_RATIO_GOAL = 1.5
FIRST_PAINT_GOAL_MS = 16.0
SCROLL_FRAME_GOAL_MS = 8.0
FILTER_GOAL_MS = 30.0
DOM_BOUND = 1000  # the same bound as tests/browser/test_panel_scale_browser.py

MAKE_ENTRIES = """(n) => {
  const h = window.__seedNumberPanel;
  const details = [];
  for (let i = 0; i < n; i++) {
    details.push({
      seed: 1000000000000 + i * 7919, mode: i % 3 ? "random" : "fixed",
      positive: `a lighthouse on a cliff at dusk, dark ${["blue", "purple", "red"][i % 3]} gradient sky, entry ${i}`
        + (i % 5 ? "" : ", with a long tail of detail words ".repeat(6)),
      label: ["blue", "purple", "red"][i % 3], speed: ["Turbo", "Default", "Quality"][i % 3],
      steps: [12, 20, 40][i % 3], cfg: 7, sampler: "dpmpp_2m", scheduler: "karras", width: 512, height: 512,
      model: "seed_number_demo_sd15.safetensors",
      reproducible: i % 4 ? undefined : {verdict: "same device only", reasons: ["ancestral sampler"]},
      seed_node: "5", image: {filename: `bench_${String(i).padStart(6, "0")}_.png`, subfolder: "bench", type: "output"},
    });
  }
  window.__benchAll = h.buildEntries("bench", {"12": {seed_number_details: details}}, {time: Date.now()});
  return window.__benchAll.length;
}"""

# Lists the first n of the built entries (the store's own list, replaced for the benchmark).
USE_ENTRIES = """(n) => {
  const h = window.__seedNumberPanel;
  h.store.entries = window.__benchAll.slice(0, n);
  h.store.changed();
  return h.store.entries.length;
}"""

FRAME = "const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));"

# The panel built from nothing, and in the same frames (alternating, so that a busy machine weighs on
# both alike) the baseline: bare text rows (seed, prompt, file name) in the same sidebar.
TIME_FIRST_PAINT = f"""async ([runs, rows]) => {{
  const h = window.__seedNumberPanel;
  {FRAME}
  const host = document.querySelector('.seed-number-panel').parentElement;
  const plainRows = () => {{
    const t0 = performance.now();
    const box = document.createElement('div');
    const fragment = document.createDocumentFragment();
    for (let k = 0; k < rows; k++) {{
      const row = document.createElement('div');
      for (const text of [String(1000000 + k), 'a lighthouse on a cliff at dusk, variant ' + k, 'img_' + k + '.png']) {{
        const span = document.createElement('span');
        span.textContent = text;
        row.appendChild(span);
      }}
      fragment.appendChild(row);
    }}
    box.appendChild(fragment);
    host.appendChild(box);
    box.getBoundingClientRect(); box.offsetHeight;
    const t1 = performance.now();
    box.remove();
    return t1 - t0;
  }};
  const times = [], plain = [], completing = [];
  let count = 0;
  for (let i = 0; i <= runs; i++) {{
    for (const e of h.store.entries) e.h = 0;  // no card measured yet: a first paint
    h.store.heights.fill(0);
    // The tab closed first (its panel torn down, its element emptied), as before any opening: the
    // removal of the old panel is part of closing the tab, not of this paint.
    h.panel.vlist.destroy();
    host.replaceChildren();
    await frame();
    const t0 = performance.now();
    count = h.remount();
    const list = document.querySelector('.seed-number-panel .sn-list');
    list.getBoundingClientRect(); list.offsetHeight;  // the style and layout it needs
    const t1 = performance.now();
    // What the next frame does to those cards (their buttons, their images requested), timed apart.
    h.panel.vlist.completeNow();
    list.getBoundingClientRect(); list.offsetHeight;
    const t2 = performance.now();
    await frame();
    const p = plainRows();
    if (i > 0) {{ times.push(t1 - t0); plain.push(p); completing.push(t2 - t1); }}  // run 0 warms up
  }}
  const cards = document.querySelectorAll('.seed-number-panel .sn-entry').length;
  return {{times, plain, completing, count, cards}};
}}"""

# Per frame: move the view, then the list's scroll work (what its scroll listener runs) and the
# style and layout it forces. `step` px a frame; every card new when `step` is many screens.
TIME_SCROLL = f"""async ([frames, step]) => {{
  const h = window.__seedNumberPanel;
  const list = document.querySelector('.seed-number-panel .sn-list');
  const vlist = h.panel.vlist;
  {FRAME}
  vlist.scrollTo(0);
  await frame();
  const times = [], nodes = [];
  let built = 0;
  for (let i = 0; i < frames; i++) {{
    await new Promise((r) => requestAnimationFrame(r));
    const before = new Set(vlist.cards.values());
    const t0 = performance.now();
    vlist.scrollTo((vlist.top + step) % Math.max(1, list.scrollHeight - list.clientHeight));
    vlist.layout();
    vlist.completeNow();  // normally the next frame's: counted here, once per card all the same
    list.getBoundingClientRect(); list.offsetHeight;
    const t1 = performance.now();
    times.push(t1 - t0);
    for (const card of vlist.cards.values()) if (!before.has(card)) built++;
    nodes.push(document.querySelectorAll('.seed-number-panel *').length);
  }}
  return {{times, built, nodes}};
}}"""

DOM_AT = """async () => {
  const list = document.querySelector('.seed-number-panel .sn-list');
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const counts = [];
  for (const at of [0, 0.5, 1]) {
    list.scrollTop = at * (list.scrollHeight - list.clientHeight);
    await frames();
    list.scrollTop = at * (list.scrollHeight - list.clientHeight);  // heights measured on the way
    await frames();
    counts.push(document.querySelectorAll('.seed-number-panel *').length);
  }
  return counts;
}"""

TIME_FILTER = f"""async ([queries]) => {{
  const h = window.__seedNumberPanel;
  const panel = h.panel;
  const list = document.querySelector('.seed-number-panel .sn-list');
  {FRAME}
  const rows = [];
  for (const q of queries) {{
    await frame();
    const t0 = performance.now();
    panel.filter.value = q;
    panel.applyFilter();  // what the debounced input handler runs
    list.getBoundingClientRect(); list.offsetHeight;
    const t1 = performance.now();
    rows.push({{q, ms: t1 - t0, shown: document.querySelector('.seed-number-panel .sn-count').textContent}});
  }}
  return rows;
}}"""

FILTER_QUERIES = ["d", "da", "dar", "dark", "dark ", "dark p", "dark pu", "dark pur", "", "1", "10", "100", "1000"]
FILTER_QUERIES += ["10000", "100000", "1000003", "", "entry 9999", ""]


def heap_mb(cdp: object) -> float:
    cdp.send("HeapProfiler.collectGarbage")  # type: ignore[attr-defined]
    cdp.send("HeapProfiler.collectGarbage")  # type: ignore[attr-defined]
    return cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20  # type: ignore[attr-defined]


def ms(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2)


def main() -> int:
    sys.path.append(str(ROOT))
    from benchmarks.common import record
    from tests.browser.conftest import CHROMIUM_ARGS, READY, VIEWPORT
    from tests.browser.panel_helpers import PANEL_HANDLE_OPT_IN, TAB_BUTTON
    from tests.conftest import CHROMIUM
    from tools.comfy_server import ComfyServer, find_comfyui
    from tools.demo_checkpoint import ensure_checkpoint

    comfyui = find_comfyui()
    if comfyui is None or CHROMIUM is None:
        print("panel: skipped (needs ComfyUI and Chromium)")  # noqa: T201
        return 0
    from playwright.sync_api import sync_playwright

    checkpoint = ensure_checkpoint(Path.home() / ".cache" / "seed-number" / "models")
    with ComfyServer(comfyui, checkpoints=[checkpoint]) as server:
        status, _ = server.request(
            "POST", "/settings", {"Comfy.TutorialCompleted": True, "SeedNumber.Panel.MaxEntries": max(SIZES)}
        )
        assert status == 200, status
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.add_init_script(PANEL_HANDLE_OPT_IN)  # the panel's handle, window.__seedNumberPanel
            cdp = page.context.new_cdp_session(page)
            page.goto(server.url + "/")
            page.wait_for_function(READY, timeout=120_000)
            page.locator(TAB_BUTTON).click()
            page.locator(".seed-number-panel").wait_for()
            page.evaluate(USE_ENTRIES.replace("window.__benchAll.slice(0, n)", "[]"), 0)
            page.evaluate("() => window.__seedNumberPanel.remount()")
            heap_empty = heap_mb(cdp)
            built = page.evaluate(MAKE_ENTRIES, max(SIZES))
            assert built == max(SIZES), built

            paint: dict[int, dict] = {}
            for size in SIZES:
                assert page.evaluate(USE_ENTRIES, size) == size
                paint[size] = page.evaluate(TIME_FIRST_PAINT, [RUNS, BASELINE_ROWS])
                assert paint[size]["count"] == size, paint[size]
            plain = [t for size in SIZES for t in paint[size]["plain"]]

            page.evaluate(USE_ENTRIES, 10_000)
            page.evaluate("() => window.__seedNumberPanel.remount()")
            scroll = page.evaluate(TIME_SCROLL, [120, 150])
            jump = page.evaluate(TIME_SCROLL, [30, 20 * 800])
            dom = page.evaluate(DOM_AT)

            page.evaluate(USE_ENTRIES, 100_000)
            page.evaluate("() => window.__seedNumberPanel.remount()")
            filtering = page.evaluate(TIME_FILTER, [FILTER_QUERIES])
            page.evaluate("() => { delete window.__benchAll; }")
            heap_full = heap_mb(cdp)
            version = browser.version
            browser.close()

    base = statistics.median(plain)
    report = {f"first_paint_{n}_ms": ms(paint[n]["times"]) for n in SIZES}
    report.update({f"first_paint_{n}_completing_ms": ms(paint[n]["completing"]) for n in SIZES})
    report.update({f"first_paint_{n}_cards": paint[n]["cards"] for n in SIZES})
    report["plain_rows_baseline_ms"] = round(base, 2)
    report.update(
        scroll_frame_max_ms=round(max(scroll["times"]), 2),
        scroll_frame_p95_ms=p95(scroll["times"]),
        scroll_frame_median_ms=ms(scroll["times"]),
        scroll_cards_built=scroll["built"],
        jump_frame_max_ms=round(max(jump["times"]), 2),
        jump_frame_median_ms=ms(jump["times"]),
        filter_max_ms=round(max(r["ms"] for r in filtering), 2),
        filter_median_ms=ms([r["ms"] for r in filtering]),
        dom_elements_10000=dom,
        dom_elements_max_while_scrolling=max(scroll["nodes"] + jump["nodes"]),
        heap_empty_mb=round(heap_empty, 1),
        heap_100000_mb=round(heap_full, 1),
        heap_bytes_per_entry=round((heap_full - heap_empty) * 2**20 / max(SIZES)),
        chromium=version,
    )
    line = ", ".join(f"{k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in report.items())
    print(f"panel: {line}")  # noqa: T201 - a benchmark's report is its output
    print("panel filter keystrokes:", json.dumps(filtering))  # noqa: T201

    baseline = f"{BASELINE_ROWS} bare text rows {base:.2f} ms"
    rows = []
    for n in SIZES:
        measured = statistics.median(paint[n]["times"])
        goal = f"goal ≤ {FIRST_PAINT_RATIO_GOAL:g}×" + (f", ≤ {FIRST_PAINT_GOAL_MS:g} ms" if n == max(SIZES) else "")
        rows.append(
            {
                "what": f"panel: first paint with {n:,} entries ({paint[n]['cards']} cards built, style + layout)",
                "measured": f"{measured:.2f} ms",
                "baseline": baseline,
                "ratio": f"{measured / base:.1f}× ({goal})",
            }
        )
    completing = [t for n in SIZES for t in paint[n]["completing"]]
    rows += [
        {
            "what": "panel: the first paint's cards completed in the next frame (buttons, thumbnails requested)",
            "measured": f"median {ms(completing)} ms, max {max(completing):.2f} ms",
            "baseline": f"goal ≤ {SCROLL_FRAME_GOAL_MS:g} ms a frame",
            "ratio": f"{statistics.median(completing) / SCROLL_FRAME_GOAL_MS:.2f}× the goal (median)",
        },
        {
            "what": "panel: scrolling 10,000 entries, work per frame (150 px a frame, 120 frames)",
            "measured": f"max {max(scroll['times']):.2f} ms, p95 {p95(scroll['times'])} ms",
            "baseline": f"goal ≤ {SCROLL_FRAME_GOAL_MS:g} ms a frame",
            "ratio": f"{max(scroll['times']) / SCROLL_FRAME_GOAL_MS:.2f}× the goal (max)",
        },
        {
            "what": "panel: jump of 20 screens in one frame, 10,000 entries (every card new)",
            "measured": f"median {ms(jump['times'])} ms, max {max(jump['times']):.2f} ms",
            "baseline": f"goal ≤ {SCROLL_FRAME_GOAL_MS:g} ms a frame",
            "ratio": f"{statistics.median(jump['times']) / SCROLL_FRAME_GOAL_MS:.2f}× the goal (median)",
        },
        {
            "what": f"panel: filter keystroke over 100,000 entries (worst of {len(FILTER_QUERIES)})",
            "measured": f"max {max(r['ms'] for r in filtering):.2f} ms, median {ms([r['ms'] for r in filtering])} ms",
            "baseline": f"goal ≤ {FILTER_GOAL_MS:g} ms",
            "ratio": f"{max(r['ms'] for r in filtering) / FILTER_GOAL_MS:.2f}× the goal",
        },
        {
            "what": "panel: DOM elements with 10,000 entries (top, middle, bottom)",
            "measured": " / ".join(str(c) for c in dom),
            "baseline": f"bound {DOM_BOUND:,}",
            "ratio": f"{max(dom) / DOM_BOUND:.2f}× the bound",
        },
        {
            "what": "panel: JS heap with 100,000 entries listed (after GC)",
            "measured": f"{heap_full:.1f} MB",
            "baseline": f"same page, panel empty {heap_empty:.1f} MB",
            "ratio": f"+{heap_full - heap_empty:.1f} MB ({report['heap_bytes_per_entry']} bytes an entry)",
        },
    ]
    record("bench_panel", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
