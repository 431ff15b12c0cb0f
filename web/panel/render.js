// @ts-check
// Seed Number panel: the DOM of the sidebar tab. No ComfyUI imports (URLs and actions come in).
// Everything that came from a prompt, a file name or metadata goes in as text (textContent,
// attributes set one by one): never as HTML.
import { REMAKE, WHY } from "./remake.js";
import { Filter } from "./store.js";
import { VirtualList } from "./virtual.js";

/** @import { Entry, ImageRef } from "./entries.js" */
/** @import { EntryList, EntryStore } from "./store.js" */
/** @import { Card } from "./virtual.js" */
/**
 * The panel's state that outlives it (closing and reopening the tab): the filter, the expanded
 * prompts, and where the view was.
 * @typedef {{query: string, expanded: Set<string>, anchor?: {key: string, offset: number} | null}} PanelState
 */
/**
 * What the panel is given: the store, its state, and what to do (URLs and actions come in).
 * `onNearEnd`: the user came near the end of the list (read older history); `more()`: whether older
 * history may still come; `loading()`: whether it is being read now.
 * @typedef {object} PanelContext
 * @property {EntryStore} store
 * @property {PanelState} state
 * @property {(image: ImageRef) => string} imageURL
 * @property {(action: string, entry: Entry, element: HTMLElement) => unknown} onAction
 * @property {() => void} onClear
 * @property {() => void} [onNearEnd]
 * @property {() => boolean} [more]
 * @property {() => boolean} [loading]
 */
/** @typedef {PanelContext & {today: string}} FillContext */

const PROMPT_CLAMP_CHARS = 140;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/**
 * An element with its class and attributes (set one by one, as text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {Record<string, string>} [attrs]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, className, attrs) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (attrs) for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/**
 * A text button; its PrimeIcons icon is the button's own ::before (one element). `prime`: with
 * PrimeVue's button classes (the header); the cards' buttons have the same look from panel.css,
 * without PrimeVue's rules, which cost more style work than the rest of a card.
 * @param {string} action
 * @param {string} icon
 * @param {string} label
 * @param {string} title
 */
function button(action, icon, label, title, prime = true) {
  const classes = prime ? "p-button p-component p-button-sm p-button-text sn-btn" : "sn-btn sn-card-btn";
  const b = el("button", `${classes} pi ${icon}`, {
    type: "button",
    "data-action": action,
    title,
    "aria-label": title,
  });
  b.textContent = label;
  return b;
}

/**
 * One entry's skeleton, cloned for every entry (cheaper than building each from scratch); the parts
 * most entries lack (tags, sweep, note, "more", no-image placeholder) are added when needed. As few
 * elements as the content needs (each costs style and layout work on the first paint): icons and the
 * "seed" caption are drawn by panel.css. The card is built light (what a first paint needs: the text
 * and the thumbnail's box); completeEntry() adds its buttons and starts its image in the next frame.
 * A grid: the seed across the top, the thumbnail beside the tags and settings, then the prompt, the
 * note, the file name and the actions across the card.
 */
function entryTemplate() {
  // An article of a feed (WAI-ARIA feed pattern): focusable, numbered by aria-posinset/-setsize.
  const item = el("article", "sn-entry", { tabindex: "-1" });
  const seedRow = el("div", "sn-seedrow");
  seedRow.append(
    el("span", "sn-seed", { "data-action": "copy", title: "Seed used: click to copy", role: "button", tabindex: "0" }),
    el("span", "sn-time"),
  );
  const open = { target: "_blank", rel: "noopener noreferrer", title: "Open the image in a new tab" };
  const thumb = el("a", "sn-thumb", open);
  thumb.append(el("img", "sn-img", { decoding: "async", alt: "" }));
  const info = el("div", "sn-info");
  info.append(el("div", "sn-meta"));
  const prompt = el("div", "sn-prompt", { title: "Prompt" });
  // The buttons' row keeps its height while empty: completing the card does not move anything.
  const actions = el("div", "sn-actions");
  item.append(seedRow, thumb, info, prompt, el("div", "sn-file", { title: "File" }), actions);
  return item;
}

/** @type {HTMLElement | null} */
let template = null;
/** @type {HTMLElement | null} */
let remakeTemplate = null; // a Seed Details entry's: its buttons' row reserves the re-make buttons' lines too
/** @type {Parts | null} */
let parts = null; // small skeletons of the optional parts, cloned when an entry needs them

function partTemplates() {
  const templates = {
    noImage: el("div", "sn-thumb sn-noimage", { title: "No image recorded" }),
    note: el("div", "sn-note", { title: "Reproducibility" }),
    speed: el("span", "sn-tag sn-speed", { title: "Render speed" }),
    label: el("span", "sn-tag sn-label", { title: "Variant" }),
    sweep: el("div", "sn-sweep"),
    more: el("button", "sn-more", { type: "button", "data-action": "expand" }),
    copy: button("copy", "pi-copy", "Copy seed", "Copy the seed", false),
    use: button("use", "pi-replay", "Use this seed", "Set the Seed Source to fixed with this seed", false),
    useAll: button("use-all", "pi-sliders-h", "Use all", "Set the seed and the render speed", false),
    remake: button("remake", "pi-refresh", "Re-make", "Queue this image's re-make prompt: the same image again", false),
    vary: button(
      "vary",
      "pi-sparkles",
      "Vary",
      "Queue this image again with a new random variation seed (strength: Settings → Seed Number → Panel)",
      false,
    ),
    // Short labels (the icon says "copy"): the four fit two lines of a card in the default sidebar.
    copyPrompt: button("copy-prompt", "pi-copy", "Prompt", "Copy prompt: the positive text", false),
    copyApi: button("copy-api", "pi-code", "API prompt", "Copy API prompt: the re-make prompt as JSON", false),
  };
  // The re-make buttons go on their own line(s), after the seed's (panel.css: order).
  for (const b of [templates.remake, templates.vary, templates.copyPrompt, templates.copyApi]) {
    b.classList.add("sn-remake-btn");
  }
  return templates;
}

/** @typedef {ReturnType<typeof partTemplates>} Parts */

/**
 * A button that stays focusable but does nothing except say why (its title, and a toast on click).
 * @param {HTMLElement} b
 * @param {string} why
 */
function unavailable(b, why) {
  b.setAttribute("aria-disabled", "true");
  b.title = why;
  b.setAttribute("aria-label", `${b.getAttribute("aria-label")} (unavailable: ${why})`);
  return b;
}

/**
 * The re-make buttons of an entry whose Seed Details record has `remake_prompt` (entry.remake: REMAKE.*).
 * @param {Entry} entry
 */
function remakeButtons(entry) {
  const remake = part("remake");
  const vary = part("vary");
  const copyPrompt = part("copyPrompt");
  const copyApi = part("copyApi");
  const why = entry.remake === REMAKE.NONE ? WHY.none : null;
  if (why) for (const b of [remake, vary, copyApi]) unavailable(b, why);
  else if (entry.remake !== REMAKE.VARY) unavailable(vary, WHY.vary);
  if (!entry.positive) unavailable(copyPrompt, "No prompt recorded.");
  return [remake, vary, copyPrompt, copyApi];
}

/**
 * A copy of one of the optional parts, with its text.
 * @param {keyof Parts} name
 * @param {string} [value]
 * @returns {HTMLElement}
 */
function part(name, value) {
  const node = /** @type {HTMLElement} */ (/** @type {Parts} */ (parts)[name].cloneNode(true));
  if (value !== undefined) node.textContent = value;
  return node;
}

/** @param {number} value */
function formatNumber(value) {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/**
 * "dpmpp_2m karras · 20 steps · cfg 7 · 512×512 · var 17 @ 0.2 · a1111 gpu noise · model.safetensors"
 * (the parts that are known; the noise source only when it is not ComfyUI's own).
 * @param {Entry} entry
 */
export function metaLine(entry) {
  const parts = [];
  const sampler = [entry.sampler, entry.scheduler].filter(Boolean).join(" ");
  if (sampler) parts.push(sampler);
  if (entry.steps !== null) parts.push(`${formatNumber(entry.steps)} steps`);
  if (entry.cfg !== null) parts.push(`cfg ${formatNumber(entry.cfg)}`);
  if (entry.denoise !== null && entry.denoise < 1) parts.push(`denoise ${formatNumber(entry.denoise)}`);
  if (entry.width !== null && entry.height !== null) parts.push(`${entry.width}×${entry.height}`);
  if (entry.batchIndex !== null) parts.push(`batch #${entry.batchIndex}`);
  if (entry.variationSeed !== null && entry.variationStrength) {
    parts.push(`var ${entry.variationSeed} @ ${formatNumber(entry.variationStrength)}`);
  }
  if (entry.noiseSource && entry.noiseSource !== "comfy") parts.push(`${entry.noiseSource} noise`);
  if (entry.model) parts.push(entry.model);
  return parts.join(" · ");
}

/**
 * @param {number} time
 * @param {string} today  `new Date().toDateString()`
 */
function timeText(time, today) {
  if (!time) return "";
  const date = new Date(time);
  const clock = timeFormat.format(date);
  return date.toDateString() === today ? clock : `${dayFormat.format(date)} ${clock}`;
}

// A collapsed prompt shows at most this many characters (a 20,000-character prompt is not laid out
// to show three lines of it); "more" shows all of it.
const PROMPT_SHOWN_CHARS = 1000;

/**
 * @param {Entry} entry
 * @param {boolean} open
 */
function promptText(entry, open) {
  const text = entry.positive ?? "";
  return open || text.length <= PROMPT_SHOWN_CHARS ? text : `${text.slice(0, PROMPT_SHOWN_CHARS)}…`;
}

/**
 * Fills a cloned skeleton with an entry's text (all as text: textContent, attributes one by one).
 * @param {HTMLElement} item
 * @param {Entry} entry
 * @param {FillContext} ctx
 */
function fillEntry(item, entry, ctx) {
  const [seedRow, thumb, info, prompt, file] = /** @type {HTMLElement[]} */ (Array.from(item.children));
  const [seed, time] = /** @type {HTMLElement[]} */ (Array.from(seedRow.children));
  const meta = /** @type {HTMLElement} */ (info.firstChild);
  item.setAttribute("data-key", entry.key);
  item.setAttribute("data-prompt-id", entry.promptId);
  item.setAttribute("aria-label", entry.seed === null ? "No seed recorded" : `Seed ${entry.seed}`);

  if (entry.seed === null) {
    seed.textContent = "—";
    seed.removeAttribute("data-action");
    seed.title = "No seed recorded";
  } else {
    seed.textContent = String(entry.seed);
  }
  time.textContent = timeText(entry.time, ctx.today);

  if (entry.image) /** @type {HTMLImageElement} */ (thumb.firstChild).alt = entry.image.filename;
  else thumb.replaceWith(part("noImage"));

  if (entry.label) info.prepend(part("label", entry.label));
  if (entry.speed) info.prepend(part("speed", entry.speed));
  const line = metaLine(entry);
  if (line) meta.textContent = line;
  else meta.remove();
  if (entry.seeds) {
    const range = `sweep: ${entry.seeds[0]} … ${entry.seeds[entry.seeds.length - 1]} (${entry.seeds.length} seeds)`;
    info.append(part("sweep", range));
  }

  if (entry.positive) {
    const long = entry.positive.length > PROMPT_CLAMP_CHARS || entry.positive.includes("\n");
    const open = long && ctx.state.expanded.has(entry.key);
    prompt.textContent = promptText(entry, open);
    if (long) {
      if (open) item.classList.add("sn-expanded");
      const more = part("more", open ? "less" : "more");
      more.setAttribute("aria-expanded", String(open));
      prompt.after(more);
    }
  } else {
    prompt.remove();
  }

  if (entry.note) {
    const note = part("note", entry.note);
    if (entry.verdict) note.dataset.verdict = entry.verdict;
    file.before(note);
  }

  const image = entry.image;
  if (image) file.textContent = image.subfolder ? `${image.subfolder}/${image.filename}` : image.filename;
  else file.remove();
}

/**
 * Finishes a card built by fillEntry: its buttons, and its image (loaded now that the card exists,
 * released with it by releaseCard). Neither changes the card's height.
 * @param {Card} item
 * @param {Entry | undefined} entry
 * @param {FillContext} ctx
 */
function completeEntry(item, entry, ctx) {
  if (!entry || item.__snComplete) return;
  item.__snComplete = true;
  if (entry.image) {
    const url = ctx.imageURL(entry.image);
    const thumb = /** @type {HTMLAnchorElement} */ (item.children[1]);
    thumb.href = url;
    /** @type {HTMLImageElement} */ (thumb.firstChild).src = url;
  }
  const copy = /** @type {HTMLButtonElement} */ (part("copy"));
  const use = /** @type {HTMLButtonElement} */ (part("use"));
  if (entry.seed === null) {
    copy.disabled = true;
    use.disabled = true;
  }
  const actions = /** @type {HTMLElement} */ (item.lastChild);
  actions.append(copy, use);
  if (entry.speed) actions.append(part("useAll"));
  if (entry.remake != null) actions.append(...remakeButtons(entry));
}

const DEBOUNCE_MS = 90; // a filter keystroke waits this long for the next one
const NEAR_END = 40; // entries: closer than this to the end of the list, older history is read

/**
 * A card's image stops loading and is dropped when the card leaves the DOM.
 * @param {HTMLElement} card
 */
function releaseCard(card) {
  const img = card.querySelector(".sn-img");
  if (img) {
    img.removeAttribute("src");
    img.parentElement?.removeAttribute("href");
  }
}

let forgotten = 0; // bumped by forgetRendered(): mounted panels drop their cards on the next update

/** Drops the cards built so far: the next render builds the visible cards again (a cold render). */
export function forgetRendered() {
  forgotten++;
}

/**
 * Builds the panel inside `container` and returns {update, root, list, filter, vlist}. `update()`
 * re-reads the store and returns the number of entries listed (matching the filter).
 * @param {HTMLElement} container
 * @param {PanelContext} ctx
 */
export function mountPanel(container, ctx) {
  if (!template || !remakeTemplate) {
    template = entryTemplate();
    remakeTemplate = /** @type {HTMLElement} */ (template.cloneNode(true));
    /** @type {HTMLElement} */ (remakeTemplate.lastChild).classList.add("sn-remakeable");
    parts = partTemplates();
  }
  const skeleton = template;
  const remakeSkeleton = remakeTemplate;
  const root = el("div", "seed-number-panel");
  const header = el("div", "sn-header");
  const titleRow = el("div", "sn-title-row");
  const title = el("h2", "sn-title");
  title.textContent = "Seed Number";
  const status = el("span", "sn-status");
  const count = el("span", "sn-count", { "aria-live": "polite" });
  titleRow.append(title, status, count);
  const toolbar = el("div", "sn-toolbar");
  const filter = el("input", "p-inputtext p-component sn-filter", {
    type: "search",
    placeholder: "Filter by seed or text",
    "aria-label": "Filter by seed or text",
    spellcheck: "false",
  });
  filter.value = ctx.state.query;
  const clear = button("clear", "pi-trash", "Clear", "Clear the list", false);
  toolbar.append(filter, clear);
  header.append(titleRow, toolbar);
  const empty = el("div", "sn-empty");
  const list = el("div", "sn-list", {
    role: "feed",
    "aria-label": "Recent generations",
    "aria-busy": "false",
  });
  root.append(header, empty, list);
  container.replaceChildren(root);
  // The tab's element is as tall as its content by default; the list scrolls itself, so the panel
  // takes the sidebar's height.
  container.classList.add("sn-host");

  /** @type {FillContext} */
  const fillCtx = { ...ctx, today: new Date().toDateString() };
  const matcher = new Filter();
  /** @type {string | null} */
  let shownQuery = null;
  /** @type {EntryList} */
  let shown = [];
  let seen = forgotten;
  /** @type {HTMLElement | null} */
  let tabStop = null; // the one card reachable with Tab (roving tabindex); arrows move it
  let setSize = -1;

  /** @param {HTMLElement | null} card */
  const setTabStop = (card) => {
    if (tabStop === card) return;
    if (tabStop) tabStop.tabIndex = -1;
    tabStop = card;
    if (card) card.tabIndex = 0;
  };

  /** @type {VirtualList<Entry>} */
  const vlist = new VirtualList(list, {
    build(entry) {
      const item = /** @type {HTMLElement} */ ((entry.remake == null ? skeleton : remakeSkeleton).cloneNode(true));
      fillEntry(item, entry, fillCtx);
      return item;
    },
    complete(item, entry) {
      completeEntry(item, entry, fillCtx);
    },
    release(card) {
      releaseCard(card);
      if (card === tabStop) tabStop = null;
    },
    measured(entry, i) {
      const at = storeIndex(i);
      if (at >= 0 && ctx.store.entries[at] === entry) ctx.store.measured(at, entry.h);
    },
    place(card, i) {
      const pos = String(i + 1);
      if (card.getAttribute("aria-posinset") !== pos) card.setAttribute("aria-posinset", pos);
      const size = String(setSize);
      if (card.getAttribute("aria-setsize") !== size) card.setAttribute("aria-setsize", size);
    },
    onRange(first, last, n) {
      // Where the view is, to come back to it when the tab is opened again.
      const top = vlist.top;
      const i = n ? vlist.index.indexAt(Math.max(0, top - vlist.padTop)) : 0;
      const offset = top - vlist.padTop - vlist.index.prefix(i);
      ctx.state.anchor = n && top > 0 ? { key: shown[i].key, offset } : null;
      if (!tabStop || !tabStop.isConnected) {
        setTabStop(vlist.cardAt(Math.min(i + (top > 0 ? 1 : 0), last)) ?? vlist.cardAt(first));
      }
      if (n - 1 - last < NEAR_END && ctx.more?.()) ctx.onNearEnd?.();
    },
  });

  // The measured card heights, kept densely by the store (reading them off 100,000 entry objects
  // costs more than a first paint may).
  /**
   * @param {EntryList} list
   * @param {Entry[]} all
   * @returns {Float64Array | null}
   */
  const heightsOf = (list, all) => {
    const heights = ctx.store.heights;
    if (!heights || heights.length !== all.length) return null;
    if (list === all) return heights;
    const at = list.positions;
    if (!at) return null;
    const out = new Float64Array(at.length);
    for (let k = 0; k < at.length; k++) out[k] = heights[at[k]];
    return out;
  };
  /** @param {number} i */
  const storeIndex = (i) => (shown === ctx.store.entries ? i : (shown.positions?.[i] ?? -1));

  /** @param {number} i */
  const focusEntry = (i) => {
    const card = vlist.reveal(Math.max(0, Math.min(i, shown.length - 1)));
    if (!card) return;
    setTabStop(card);
    card.focus({ preventScroll: true });
  };

  const update = () => {
    const all = ctx.store.entries;
    const next = matcher.apply(all, ctx.state.query);
    const more = ctx.more?.() ?? false;
    setSize = more ? -1 : next.length;
    list.setAttribute("aria-busy", String(more && !!ctx.loading?.()));
    status.textContent = ctx.loading?.() ? "loading older…" : "";
    if (seen !== forgotten) {
      seen = forgotten;
      vlist.forget();
      shown = []; // no answer is this list: the answer is listed again below
    }
    const newQuery = shownQuery !== null && shownQuery !== ctx.state.query;
    if (next !== shown || newQuery) {
      shown = next;
      vlist.setItems(shown, { toTop: newQuery, heights: heightsOf(shown, all) });
      shownQuery = ctx.state.query;
    } else {
      vlist.layout();
    }
    count.textContent = shown.length === all.length ? `${all.length}` : `${shown.length} of ${all.length}`;
    empty.hidden = shown.length > 0;
    empty.textContent = all.length
      ? "Nothing matches the filter."
      : "No generations yet. Run a workflow with a Seed Source: each image appears here with its seed.";
    clear.disabled = all.length === 0;
    return shown.length;
  };

  let timer = 0;
  const applyFilter = () => {
    clearTimeout(timer);
    timer = 0;
    if (ctx.state.query === filter.value) return;
    ctx.state.query = filter.value;
    update();
  };
  filter.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(applyFilter, DEBOUNCE_MS);
  });
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") applyFilter();
    else if (event.key === "ArrowDown" && shown.length) {
      event.preventDefault();
      applyFilter();
      focusEntry(0);
    }
  });
  clear.addEventListener("click", () => ctx.onClear());
  /** @param {Event} event */
  const act = (event) => {
    const source = /** @type {HTMLElement} */ (event.target);
    const target = /** @type {HTMLButtonElement | null} */ (source.closest?.("[data-action]"));
    if (!target || !list.contains(target) || target.disabled) return; // aria-disabled: onAction says why
    const item = /** @type {HTMLElement | null} */ (target.closest(".sn-entry"));
    const entry = item && ctx.store.find(item.dataset.key ?? "");
    if (!item || !entry) return;
    const action = target.dataset.action ?? "";
    if (action === "expand") {
      const open = item.classList.toggle("sn-expanded");
      if (open) ctx.state.expanded.add(entry.key);
      else ctx.state.expanded.delete(entry.key);
      const prompt = item.querySelector(".sn-prompt");
      const text = promptText(entry, open);
      if (prompt && prompt.textContent !== text) prompt.textContent = text;
      target.textContent = open ? "less" : "more";
      target.setAttribute("aria-expanded", String(open));
      return; // the card's new height reaches the list through its ResizeObserver
    }
    ctx.onAction(action, entry, target);
  };
  list.addEventListener("click", act);
  list.addEventListener("focusin", (event) => {
    const card = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest?.(".sn-entry"));
    if (card) setTabStop(card);
  });
  // Keys of the feed pattern: on a card, arrows and Page Up/Down go to the previous or next card,
  // Home/End to the first or last one loaded; Enter or Space on the seed copies it.
  /** @type {Record<string, number>} */
  const MOVES = { ArrowDown: 1, PageDown: 1, ArrowUp: -1, PageUp: -1 };
  list.addEventListener("keydown", (event) => {
    const source = /** @type {Card} */ (event.target);
    if ((event.key === "Enter" || event.key === " ") && source.classList?.contains("sn-seed")) {
      event.preventDefault();
      act(event);
      return;
    }
    if (!source.classList?.contains("sn-entry") || event.altKey || event.metaKey) return;
    const i = source.__snIndex;
    let to = null;
    if (event.key in MOVES) to = i + MOVES[event.key];
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = shown.length - 1;
    if (to === null || typeof i !== "number") return;
    event.preventDefault();
    event.stopPropagation();
    if (to >= 0 && to < shown.length) focusEntry(to);
  });

  // Opened again: back where the view was (by entry, so entries added meanwhile do not shift it).
  const anchor = ctx.state.anchor;
  update();
  if (anchor && shown.length) {
    const at = shown.findIndex((e) => e.key === anchor.key);
    if (at >= 0) {
      vlist.scrollTo(vlist.padTop + vlist.index.prefix(at) + anchor.offset);
      vlist.layout();
    }
  }
  return { root, update, list, filter, vlist, focusEntry, applyFilter };
}
