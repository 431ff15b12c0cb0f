"""The panel's pure modules (web/panel/*.js) under Node's own test runner: no browser, no server.

Issue 11 item 8 (a history item with 150,000 images; one item that throws costs only itself) and
the parts of issue 15 that are plain functions: the history pager against ComfyUI's paging rules
(also when items are added or dropped while it pages), the store's merge, the filter's narrowing,
the virtual list's height index. Skipped without ``node`` (20+) on the PATH.
"""

from __future__ import annotations

import json
from pathlib import Path

from seed_number.nodes.core.prompt_details import SAMPLER_CLASSES
from tests.browser.panel_helpers import PANEL_MODULES, run_node_tests

SCRIPT = r"""
import { test } from "node:test";
import assert from "node:assert/strict";
const dir = process.env.PANEL_DIR;
const { buildEntries, graphContext, historyToEntries, historyItemEntries, setSamplerClasses } = await import(
  `${dir}/entries.js`
);
const SAMPLER_CLASSES = __SAMPLER_CLASSES__; // the server's list (Python's SAMPLER_CLASSES)
const { EntryStore, Filter, filterEntries } = await import(`${dir}/store.js`);
const { HistoryPager } = await import(`${dir}/history.js`);
const { HeightIndex } = await import(`${dir}/virtual.js`);

function item(i, images = 1, time = 1000 + i) {
  const seeds = Array.from({ length: images }, (_, k) => 1000 * i + k);
  return {
    prompt: [i, `p${i}`, {}, {}, []],
    outputs: {
      5: { seed_number_receipt: [{ seed: seeds[0], node: "5", ...(images > 1 ? { seeds } : {}) }] },
      8: { images: seeds.map((s) => ({ filename: `i${s}.png`, subfolder: "", type: "output" })) },
    },
    status: { messages: [["execution_success", { timestamp: time }]] },
  };
}

test("an item with 150,000 images builds without RangeError", () => {
  const big = item(1, 150000);
  assert.throws(() => [].push(...big.outputs[8].images), RangeError); // what the old code did
  const limited = historyItemEntries("big", big, { limit: 200 });
  assert.equal(limited.length, 200);
  assert.equal(limited[199].seed, 1199);
  const all = buildEntries("big", big.outputs, {});
  assert.equal(all.length, 150000);
  assert.equal(all[149999].image.filename, "i150999.png");
  assert.equal(all[149999].seed, 150999);
});

test("one item that throws costs only itself", () => {
  const history = { p1: item(1), p2: item(2), p3: item(3) };
  Object.defineProperty(history.p2, "outputs", { get() { throw new Error("unreadable"); }, enumerable: true });
  const skipped = [];
  const entries = historyToEntries(history, { onSkip: (id) => skipped.push(id) });
  assert.deepEqual(entries.map((e) => e.promptId), ["p3", "p1"]);
  assert.equal(entries.skipped, 1);
  assert.deepEqual(skipped, ["p2"]);
  for (const junk of [null, "x", 1, [], {}, { outputs: "x" }, { outputs: { 5: { seed_number_receipt: "x" } } }]) {
    assert.deepEqual(historyToEntries({ a: junk, b: item(4) }).map((e) => e.promptId), ["b"]);
  }
});

test("the store merges, keeps the newest, replaces a prompt's entries", () => {
  const store = new EntryStore(5);
  store.put(historyToEntries({ p1: item(1, 3), p3: item(3, 1) }), "history");
  store.put(historyToEntries({ p2: item(2, 2) }), "live");
  assert.deepEqual(store.entries.map((e) => e.seed), [3000, 2000, 2001, 1000, 1001]);
  store.put(historyToEntries({ p2: item(2, 1) }), "history"); // the history version replaces the live one
  assert.deepEqual(store.entries.map((e) => e.seed), [3000, 2000, 1000, 1001]);
  store.put(historyToEntries({ p2: item(2, 3) }), "live"); // live never replaces history
  assert.deepEqual(store.entries.map((e) => e.seed), [3000, 2000, 1000, 1001]);
  assert.equal(store.find(store.entries[1].key), store.entries[1]);
  store.measured(1, 123); // the card of seed 2000 was measured: the height follows it through merges
  store.put(historyToEntries({ p5: item(5, 1) }), "history");
  assert.deepEqual(store.entries.map((e) => e.seed), [5000, 3000, 2000, 1000, 1001]);
  assert.deepEqual([...store.heights], [0, 0, 123, 0, 0]);
  store.put(historyToEntries({ p9: item(9, 4) }), "live");
  assert.deepEqual(store.entries.map((e) => e.seed), [9000, 9001, 9002, 9003, 5000]);
  assert.deepEqual([...store.sources.keys()].sort(), ["p5", "p9"]);
  assert.equal(store.heights.length, 5);
});

test("the filter narrows from its last answer with the same result as a full search", () => {
  const entries = historyToEntries(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, item(i)])));
  const filter = new Filter();
  for (const q of ["1", "12", "120", "120 i", "120 i1", "", "9", "99 "]) {
    const got = filter.apply(entries, q);
    assert.deepEqual(got, filterEntries(entries, q), q);
    if (q.trim()) assert.deepEqual([...got.positions].map((i) => entries[i]), [...got], q);
  }
  assert.equal(filter.apply(entries, ""), entries);
});

// ComfyUI 0.3.64 execution.py PromptQueue.get_history, over `items` (oldest first).
function server(items) {
  const calls = [];
  const fetchJSON = async (path) => {
    const q = new URL(path, "http://x").searchParams;
    calls.push(path);
    const max = q.has("max_items") ? Number(q.get("max_items")) : null;
    let offset = q.has("offset") ? Number(q.get("offset")) : -1;
    if (offset < 0 && max !== null) offset = items.length - max;
    const out = {};
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      if (i >= offset) {
        out[items[i]] = { i: items[i] };
        n++;
        if (max !== null && n >= max) break;
      }
    }
    return out;
  };
  return { fetchJSON, calls };
}

async function readAll(pager, between = () => {}) {
  const order = [];
  for (let page; (page = await pager.next()); between()) order.push(Object.keys(page.items).reverse());
  return order;
}

test("the pager reads newest first, each item once", async () => {
  for (const count of [0, 1, 99, 100, 101, 250, 1000, 1234]) {
    const items = Array.from({ length: count }, (_, i) => `id${i}`);
    const { fetchJSON, calls } = server(items);
    const pages = await readAll(new HistoryPager(fetchJSON, { pageItems: 100 }));
    assert.deepEqual(pages.flat(), [...items].reverse(), `count ${count}`);
    assert.ok(pages.every((p) => p.length <= 100), `count ${count}`);
    assert.ok(calls.length <= Math.ceil(count / 100) + 2 * Math.log2(count + 2) + 3, `${count}: ${calls.length} calls`);
  }
});

test("the pager skips nothing when items are added or dropped while it pages", async () => {
  const items = Array.from({ length: 1000 }, (_, i) => `id${i}`);
  const { fetchJSON } = server(items);
  let next = 1000;
  let dropped = 0;
  const pages = await readAll(new HistoryPager(fetchJSON, { pageItems: 100 }), () => {
    items.push(`id${next++}`); // a new run
    items.splice(0, 3); // the server drops its oldest (over its maximum)
    dropped += 3;
    items.splice(500, 1); // and one is deleted
    items.push(`id${next++}`);
  });
  const read = pages.flat();
  assert.equal(new Set(read).size, read.length, "no item twice");
  for (const id of items) {
    if (Number(id.slice(2)) < 1000) assert.ok(read.includes(id), `${id} was there all along and not read`);
  }
  assert.ok(dropped > 0 && read.includes("id999"));
});

test("the height index finds offsets like a linear scan", () => {
  const heights = Array.from({ length: 1000 }, (_, i) => 50 + ((i * 37) % 200));
  const index = new HeightIndex(heights);
  index.set(10, 500);
  heights[10] = 500;
  let top = 0;
  for (let i = 0; i < heights.length; i++) {
    assert.equal(index.prefix(i), top);
    assert.equal(index.indexAt(top), i);
    assert.equal(index.indexAt(top + heights[i] - 0.5), i);
    top += heights[i];
  }
  assert.equal(index.total(), top);
  assert.equal(index.indexAt(top + 10), 999);
  assert.equal(new HeightIndex([]).indexAt(5), 0);
});

test("samplers are the classes the server names, nothing guessed", () => {
  const graph = {
    1: { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: "m.safetensors" } },
    2: { class_type: "CLIPTextEncode", inputs: { text: "a red circle", clip: ["1", 1] } },
    4: { class_type: "EmptyLatentImage", inputs: { width: 64, height: 96, batch_size: 1 } },
    6: { class_type: "KSampler", inputs: { seed: 5, steps: 7, positive: ["2", 0], negative: ["2", 0],
      latent_image: ["4", 0], model: ["1", 0], cfg: 3, sampler_name: "euler", scheduler: "normal", denoise: 1 } },
    9: { class_type: "LooksLikeASampler", inputs: { positive: ["2", 0], latent_image: ["4", 0] } },
  };
  assert.deepEqual(graphContext(graph, null), {}); // before the server's rules: no sampler
  setSamplerClasses(SAMPLER_CLASSES);
  const context = graphContext(graph, null);
  assert.equal(context.positive, "a red circle");
  assert.equal(context.steps, 7);
  delete graph[6];
  assert.deepEqual(graphContext(graph, null), {}); // an unknown class with sampler-like inputs is not one
  setSamplerClasses("junk");
  assert.deepEqual(graphContext({ 6: { class_type: "KSampler", inputs: { latent_image: ["4", 0] } } }, null), {});
});
"""


def test_panel_pure_modules_under_node(tmp_path: Path) -> None:
    script = SCRIPT.replace("__SAMPLER_CLASSES__", json.dumps(sorted(SAMPLER_CLASSES)))
    run_node_tests(tmp_path, "panel.test.mjs", script, PANEL_MODULES, timeout=300)
