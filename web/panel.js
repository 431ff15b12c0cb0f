// @ts-check
// Seed Number sidebar panel: recent generations with their seeds, and one-click reuse of a seed.
// Plain ES module; ComfyUI core only through scripts/app.js and scripts/api.js, siblings relatively.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import {
  copyText,
  nodeById,
  nodesOfType,
  SEED_SOURCE,
  setWidget,
  SPEED_PRESET,
  toast,
  widget,
} from "./common.js";
import {
  buildEntries,
  detailsRecords,
  historyItemEntries,
  historyTime,
  historyToEntries,
  setSamplerClasses,
  TEXT_LIMIT,
} from "./panel/entries.js";
import { HistoryPager } from "./panel/history.js";
import { clampStrength, randomVariationSeed, recordOf, remakeOf, WHY, withVariation } from "./panel/remake.js";
import { forgetRendered, mountPanel } from "./panel/render.js";
import { DEFAULT_MAX_ENTRIES, EntryStore, MAX_MAX_ENTRIES, PendingRuns } from "./panel/store.js";

/** @import { ApiPrompt, Entry, ImageRef, Json } from "./panel/entries.js" */
/** @import { PanelState } from "./panel/render.js" */
/** @import { Refusal } from "./panel/remake.js" */
/** @typedef {ReturnType<typeof mountPanel> & {host: HTMLElement}} Panel  the mounted panel, in its tab's element */
/**
 * An `executed`, `execution_start` or execution-end websocket event, as far as the panel reads it.
 * @typedef {CustomEvent<{prompt_id?: string, node?: string, display_node?: string, output?: Json,
 *   timestamp?: number} | null>} RunEvent
 */

const TAB_ID = "seed-number";
const MAX_ENTRIES = "SeedNumber.Panel.MaxEntries";
const VARY_STRENGTH = "SeedNumber.Panel.VaryStrength";
const DEFAULT_VARY_STRENGTH = 0.25;
const CLEARED_AT = "SeedNumber.Panel.ClearedAt"; // localStorage: what "Clear" hid, kept over reloads
const SPEEDS = ["Turbo", "Default", "Quality"];

const store = new EntryStore(DEFAULT_MAX_ENTRIES);
store.clearedAt = Number(localStorage.getItem(CLEARED_AT)) || 0;
/** @type {PanelState} */
const state = { query: "", expanded: new Set() }; // survives closing and reopening the tab
const pending = new PendingRuns(); // this tab's running prompts: {node id: output}, from `executed` events
/** @type {Panel | null} */
let panel = null; // the mounted panel, while the tab is open
let renderQueued = false;

// -- helpers ------------------------------------------------------------------------------------

/** @param {ImageRef} image */
function imageURL(image) {
  const params = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
  return api.apiURL(`/view?${params}`);
}

function scheduleRender() {
  if (!panel || renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    panel?.update();
  });
}

store.subscribe(scheduleRender);

/**
 * The nodes of one type in the open workflow, subgraphs included.
 * @param {string} type
 */
function ofType(type) {
  return nodesOfType(app.graph, type);
}

/**
 * The Seed Source to set: the one selected on the canvas, else the one that made the entry (by id),
 * else the only one in the workflow; null with a reason otherwise.
 * @param {Entry} entry
 */
function targetSeedSource(entry) {
  const selected = Object.values(app.canvas?.selected_nodes ?? {}).filter((n) => n.comfyClass === SEED_SOURCE);
  if (selected.length === 1) return { node: selected[0] };
  const producer = entry.seedNode != null ? nodeById(app.graph, entry.seedNode) : null;
  if (producer?.comfyClass === SEED_SOURCE) return { node: producer };
  const all = ofType(SEED_SOURCE);
  if (all.length === 1) return { node: all[0].node };
  if (!all.length) return { reason: "There is no Seed Source in this workflow." };
  return { reason: "This workflow has several Seed Sources: select the one to set, then try again." };
}

/**
 * Use this seed (`withSpeed`: Use all): sets the Seed Source (and Render Speed Presets) from the entry.
 * @param {Entry} entry
 * @returns {boolean} whether it was set
 */
function useSeed(entry, { withSpeed = false } = {}) {
  if (entry.seed === null || entry.seed === undefined) {
    toast(app, "warn", "No seed", "This generation has no recorded seed.");
    return false;
  }
  if (typeof entry.seed !== "number") {
    toast(app, "warn", "Seed too large", `${entry.seed} is beyond what the editor can hold exactly (2^53).`);
    return false;
  }
  const { node, reason } = targetSeedSource(entry);
  if (!node) {
    toast(app, "warn", "Seed not set", reason);
    return false;
  }
  setWidget(node, "seed_number", entry.seed, app.canvas);
  setWidget(node, "mode", "fixed", app.canvas);
  const done = [`Seed Source #${node.id}: fixed, seed ${entry.seed}`];
  if (entry.sweep && Number(widget(node, "count")?.value ?? 1) > 1) {
    setWidget(node, "count", 1, app.canvas);
    done.push("count 1 (re-makes this image of the sweep)");
  }
  if (withSpeed) {
    const speed = String(entry.speed ?? "").split(" ")[0];
    const presets = ofType(SPEED_PRESET);
    if (!SPEEDS.includes(speed)) {
      done.push("no render speed recorded");
    } else if (!presets.length) {
      done.push("no Render Speed Preset in this workflow");
    } else {
      for (const { node: preset } of presets) setWidget(preset, "speed", speed, app.canvas);
      done.push(`speed ${speed}`);
    }
    if (entry.label) done.push(`variant “${entry.label}” is not re-selectable: edit the template`);
  }
  node.setDirtyCanvas?.(true, true);
  app.graph?.setDirtyCanvas?.(true, true);
  toast(app, "success", withSpeed ? "Settings applied" : "Seed applied", done.join("; "));
  return true;
}

/** @param {Entry} entry */
function copySeed(entry) {
  return copyText(app, String(entry.seed), "Seed copied");
}

// -- re-make prompts: read from /history when a button is clicked (entries do not keep them) ----------

/**
 * The entry's prompt's Seed Details records from /history/<prompt id>; null when the item is gone.
 * @param {Entry} entry
 */
async function historyRecords(entry) {
  const answer = await fetchJSON(`/history/${encodeURIComponent(entry.promptId)}`);
  const item = answer?.[entry.promptId];
  return item?.outputs ? detailsRecords(item.outputs) : null;
}

/**
 * `find(records, entry)` over the entry's records read now (remake.js recordOf / remakeOf); null
 * after a toast saying why when there is nothing to use.
 * @template S
 * @param {Entry} entry
 * @param {(records: Json[] | null, entry: Entry) => S | Refusal} find
 * @param {string} summary  the toasts' title
 * @returns {Promise<S | null>}
 */
async function readRecord(entry, find, summary) {
  /** @type {S | Refusal} */
  let found;
  try {
    found = find(entry.remake == null ? null : await historyRecords(entry), entry);
  } catch (error) {
    toast(app, "error", summary, `Could not read the server's history: ${errorText(error)}`);
    return null;
  }
  const reason = /** @type {Partial<Refusal>} */ (found).reason;
  if (reason) {
    toast(app, "warn", summary, reason);
    return null;
  }
  return /** @type {S} */ (found);
}

/**
 * An error's message (or the thrown value itself, as text).
 * @param {unknown} error
 */
function errorText(error) {
  return /** @type {{message?: unknown} | null | undefined} */ (error)?.message ?? error;
}

/**
 * ComfyUI's answer to a refused POST /prompt, as one line: its error and each node's errors.
 * @param {Json | null} answer
 * @param {number} status
 */
function queueError(answer, status) {
  const parts = [answer?.error?.message ?? `HTTP ${status}`];
  for (const [id, node] of Object.entries(/** @type {Record<string, Json>} */ (answer?.node_errors ?? {}))) {
    for (const e of node?.errors ?? []) parts.push(`#${id} ${e?.message ?? ""}${e?.details ? `: ${e.details}` : ""}`);
  }
  return parts.join("; ");
}

/**
 * Queues an API prompt as this tab's (POST /prompt with its client id, as the frontend's own
 * api.queuePrompt does): its images come back to this tab and become new entries. The server's
 * prompt hook resolves it like any other; a re-make prompt's Seed Source is `fixed`.
 * @param {ApiPrompt} prompt
 */
async function queuePrompt(prompt) {
  const response = await api.fetchApi("/prompt", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt, client_id: api.clientId ?? api.initialClientId ?? "" }),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new Error(queueError(answer, response.status));
  return answer;
}

function varyStrength() {
  const setting = app.extensionManager?.setting;
  return clampStrength(setting?.get?.(VARY_STRENGTH) ?? DEFAULT_VARY_STRENGTH, DEFAULT_VARY_STRENGTH);
}

/**
 * Re-make: queues the image's re-make prompt as it is. Vary (`vary`): the same with a new random
 * variation seed at the strength set in the settings, on the Seed Source that feeds the image's noise.
 * @param {Entry} entry
 * @returns {Promise<boolean>} whether it was queued
 */
async function remake(entry, { vary = false } = {}) {
  const summary = vary ? "Variation not queued" : "Re-make not queued";
  const found = await readRecord(entry, remakeOf, summary);
  if (!found) return false;
  let prompt = found.prompt;
  let what = `seed ${entry.seed ?? "?"}`;
  if (vary) {
    const strength = varyStrength();
    const variationSeed = randomVariationSeed();
    const varied = withVariation(prompt, found.record, variationSeed, strength);
    if ("reason" in varied) {
      toast(app, "warn", summary, varied.reason);
      return false;
    }
    prompt = varied.prompt;
    what += `, var ${variationSeed} @ ${strength}`;
  }
  try {
    await queuePrompt(prompt);
  } catch (error) {
    toast(app, "error", summary, String(errorText(error)));
    return false;
  }
  toast(app, "success", vary ? "Variation queued" : "Re-make queued", `${what}: it appears here when done.`);
  return true;
}

/**
 * Copy prompt: the entry's positive text (the whole text from /history when the entry holds it cut).
 * @param {Entry} entry
 */
async function copyPrompt(entry) {
  if (!entry.positive) {
    toast(app, "warn", "Could not copy", "This generation has no recorded prompt.");
    return false;
  }
  let text = entry.positive;
  if (text.length > TEXT_LIMIT) {
    const found = await readRecord(entry, recordOf, "Could not copy");
    if (!found) return false;
    if (typeof found.record.positive === "string") text = found.record.positive;
  }
  return copyText(app, text, "Prompt copied");
}

/**
 * Copy API prompt: the image's re-make prompt, as indented JSON.
 * @param {Entry} entry
 */
async function copyApiPrompt(entry) {
  const found = await readRecord(entry, remakeOf, "Could not copy");
  return found ? copyText(app, JSON.stringify(found.prompt, null, 2), "API prompt copied") : false;
}

/** @type {Record<string, (entry: Entry) => boolean | Promise<boolean>>} */
const ACTIONS = {
  copy: copySeed,
  use: (entry) => useSeed(entry),
  "use-all": (entry) => useSeed(entry, { withSpeed: true }),
  remake: (entry) => remake(entry),
  vary: (entry) => remake(entry, { vary: true }),
  "copy-prompt": copyPrompt,
  "copy-api": copyApiPrompt,
};

/** @type {Promise<unknown>} */
let lastAction = Promise.resolve(); // the last card action's promise (the debugging hook's `settled`)

/**
 * A card's button (or its seed) was clicked: the action's promise (tests await it through the hook).
 * @param {string} action
 * @param {Entry} entry
 */
function onAction(action, entry) {
  const run = ACTIONS[action];
  if (!run) return null;
  lastAction = Promise.resolve()
    .then(() => run(entry))
    .catch((error) => {
      console.error(`Seed Number panel: ${action} failed`, error);
      toast(app, "error", "Seed Number", `${action} failed: ${errorText(error)}`);
      return false;
    });
  return lastAction;
}

function clearPanel() {
  store.clear();
  localStorage.setItem(CLEARED_AT, String(store.clearedAt));
  toast(app, "info", "Seed Number", "List cleared. New generations will appear here.");
}

// -- sources: /history in pages (newest first, more as the list is scrolled), websocket events ------

/** @type {HistoryPager | null} */
let pager = null; // reads /history backwards; replaced when the history is read again from the top
let retryAt = 0;
/** @type {string[]} */
const skipped = []; // prompt ids of /history items the panel could not read (each costs only itself)

/**
 * GET an API path's JSON; throws when the server refuses.
 * @param {string} path
 * @returns {Promise<Json>}
 */
async function fetchJSON(path) {
  const response = await api.fetchApi(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/**
 * @param {string} promptId
 * @param {unknown} error
 */
function onSkip(promptId, error) {
  skipped.push(promptId);
  console.warn(`Seed Number panel: history item ${promptId} could not be read; left out.`, error);
}

/** Reads the next older page of /history into the store; false when there is nothing more to read. */
async function loadOlder() {
  const p = pager;
  if (!p || p.done || p.loading || Date.now() < retryAt) return false;
  scheduleRender(); // shows "loading older…"
  let page = null;
  try {
    page = await p.next();
  } catch (error) {
    retryAt = Date.now() + Math.min(30000, 1000 * 2 ** p.failures);
    console.warn("Seed Number panel: could not read /history", error);
  }
  if (p !== pager) return false; // read again from the top meanwhile
  if (page) {
    let newest = 0;
    for (const id of Object.keys(page.items)) {
      try {
        newest = Math.max(newest, historyTime(page.items[id]));
      } catch {
        // an unreadable item: historyToEntries below leaves it out and says so
      }
    }
    const entries = historyToEntries(page.items, { limit: store.max, onSkip });
    if (!store.put(entries, "history")) scheduleRender();
    // Older pages hold older generations: none of them would stay in a full list, or show after "Clear".
    if (store.full() || (newest && newest <= store.clearedAt)) p.done = true;
  } else {
    scheduleRender();
  }
  return !!page && !p.done;
}

/** The server's graph rules (which node classes are samplers), read once before the first /history page. */
async function loadGraphRules() {
  try {
    const rules = await fetchJSON("/seed_number/graph_rules");
    setSamplerClasses(rules?.sampler_classes);
  } catch (error) {
    console.warn("Seed Number panel: could not read the graph rules; entries show their Seed Details only", error);
  }
}

/** (Re)reads /history from its newest page; older pages follow as the list is scrolled down. */
async function loadHistory() {
  pager = new HistoryPager(fetchJSON);
  retryAt = 0;
  await loadOlder();
}

/**
 * Rebuilds one prompt's entries from /history (which knows the queued prompt: text, model, size).
 * @param {string} promptId
 */
async function refreshFromHistory(promptId, tries = 8) {
  for (let i = 0; i < tries; i++) {
    try {
      const response = await api.fetchApi(`/history/${encodeURIComponent(promptId)}`);
      const item = response.ok ? (await response.json())?.[promptId] : null;
      if (item?.outputs) {
        store.put(historyItemEntries(promptId, item), "history");
        return;
      }
    } catch {
      // the server may be busy or restarting: try again below
    }
    await new Promise((resolve) => setTimeout(resolve, 150 * 2 ** i));
  }
}

/**
 * Runs whose end never reached this tab (dropped from `pending`): their entries come from /history.
 * @param {string[]} promptIds
 */
function readDropped(promptIds) {
  for (const promptId of promptIds) void refreshFromHistory(promptId);
}

/** @param {RunEvent} event */
function onStarted({ detail }) {
  if (detail?.prompt_id) readDropped(pending.started(detail.prompt_id));
}

/** @param {RunEvent} event */
function onExecuted({ detail }) {
  if (!detail?.prompt_id || !detail.output) return;
  readDropped(pending.add(detail.prompt_id, String(detail.node ?? detail.display_node), detail.output));
}

/** @param {RunEvent} event */
function onFinished({ detail }) {
  const promptId = detail?.prompt_id;
  if (!promptId) return;
  const outputs = pending.take(promptId);
  if (!outputs) return; // nothing of ours ran, or this tab did not queue it
  const entries = buildEntries(promptId, outputs, { time: detail.timestamp ?? Date.now() });
  if (!entries.length) return;
  store.put(entries, "live");
  void refreshFromHistory(promptId);
}

// -- the extension ----------------------------------------------------------------------------------

function addStyles() {
  if (document.querySelector("link[data-seed-number-panel]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("./panel.css", import.meta.url).href;
  link.dataset.seedNumberPanel = "";
  document.head.append(link);
}

/**
 * Builds the panel in the sidebar tab's element (each time the tab opens).
 * @param {HTMLElement} element
 * @returns {Panel}
 */
function mount(element) {
  panel?.vlist.destroy();
  const mounted = mountPanel(element, {
    store,
    state,
    imageURL,
    onAction,
    onClear: clearPanel,
    onNearEnd: () => void loadOlder(),
    more: () => !!pager && !pager.done,
    loading: () => !!pager?.loading,
  });
  panel = Object.assign(mounted, { host: element });
  return panel;
}

/**
 * A debugging and benchmarking handle: the store and a render call. Installed as
 * window.__seedNumberPanel only in a page that opted in before the extension loaded
 * (window.__seedNumberDebug = true: the browser tests and the benchmark); users get no global.
 */
const debugHook = {
  store,
  buildEntries,
  historyToEntries,
  skipped,
  get pager() {
    return pager;
  },
  get panel() {
    return panel;
  },
  /** Reads older /history pages until there are no more (or `maxPages` were read). */
  async loadAll(maxPages = Infinity) {
    for (let i = 0; i < maxPages && (await loadOlder()); i++);
  },
  /**
   * @param {Entry[]} entries
   * @param {"live" | "history"} source
   */
  addEntries(entries, source = "live") {
    return store.put(entries, source);
  },
  /**
   * Re-renders the open panel; the number of entries it lists (0 when the tab is closed). With
   * `fresh`, the visible cards are built again and the list's positions rebuilt (a cold render).
   */
  render({ fresh = false } = {}) {
    if (fresh) forgetRendered();
    return panel?.update() ?? 0;
  },
  /** Builds the open panel again from nothing, as opening the tab does; the number of entries listed. */
  remount() {
    return panel ? mount(panel.host).vlist.items.length : 0;
  },
  reload: loadHistory,
  /** The last card action (Re-make, Vary, a copy…) settled: its result. */
  settled() {
    return lastAction;
  },
  pending,
  WHY,
};

app.registerExtension({
  name: "SeedNumber.Panel",

  settings: [
    {
      id: MAX_ENTRIES,
      category: ["Seed Number", "Panel", "Max entries"],
      name: "Generations kept in the Seed Number panel",
      tooltip:
        "The newest ones are kept (up to 100,000). The server's history is read in pages, newest first, " +
        "as the list is scrolled down.",
      type: "number",
      defaultValue: DEFAULT_MAX_ENTRIES,
      attrs: { min: 1, max: MAX_MAX_ENTRIES, step: 10 },
      onChange(value) {
        const before = store.max;
        store.setMax(value ?? DEFAULT_MAX_ENTRIES);
        // More room: read the history again from its newest page (pages older than what was kept
        // before may now fit; the pager stops once the list is full).
        if (store.max > before && pager?.started) void loadHistory();
      },
    },
    {
      id: VARY_STRENGTH,
      category: ["Seed Number", "Panel", "Vary strength"],
      name: "Variation strength of the panel's Vary button",
      tooltip:
        "Vary queues an image's re-make prompt with a new random variation seed at this strength " +
        "(0.01: almost the same image … 1: the variation seed's own image).",
      type: "slider",
      defaultValue: DEFAULT_VARY_STRENGTH,
      attrs: { min: 0.01, max: 1, step: 0.01 },
    },
  ],

  commands: [
    {
      id: "SeedNumber.TogglePanel",
      label: "Seed Number: toggle the panel",
      icon: "pi pi-hashtag",
      function: () => app.extensionManager.command.execute(`Workspace.ToggleSidebarTab.${TAB_ID}`),
    },
    {
      id: "SeedNumber.ReuseLastSeed",
      label: "Seed Number: reuse the last seed",
      icon: "pi pi-replay",
      function: () => {
        const entry = store.newest();
        if (!entry) toast(app, "warn", "No seed yet", "Run a workflow with a Seed Source first.");
        else useSeed(entry);
      },
    },
  ],

  keybindings: [
    { combo: { key: "s", alt: true }, commandId: "SeedNumber.TogglePanel" },
    { combo: { key: "r", alt: true, shift: true }, commandId: "SeedNumber.ReuseLastSeed" },
  ],

  setup() {
    addStyles();
    app.extensionManager.registerSidebarTab({
      id: TAB_ID,
      icon: "pi pi-hashtag",
      title: "Seed Number",
      tooltip: "Seed Number: recent generations and their seeds",
      label: "Seeds",
      type: "custom",
      render(element) {
        mount(element);
      },
      destroy() {
        panel?.vlist.destroy();
        panel = null;
      },
    });
    api.addEventListener("execution_start", onStarted);
    api.addEventListener("executed", onExecuted);
    api.addEventListener("execution_success", onFinished);
    api.addEventListener("execution_error", onFinished);
    api.addEventListener("execution_interrupted", onFinished);
    if (window.__seedNumberDebug === true) window.__seedNumberPanel = debugHook;
    void loadGraphRules().then(loadHistory);
  },
});
