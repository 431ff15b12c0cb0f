// Seed Number panel: the DOM of the sidebar tab. No ComfyUI imports (URLs and actions come in).
// Everything that came from a prompt, a file name or metadata goes in as text (textContent,
// attributes set one by one): never as HTML.
import { filterEntries } from "./store.js";

const PROMPT_CLAMP_CHARS = 140;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

function el(tag, className, attrs) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (attrs) for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/** A PrimeVue-styled text button; its PrimeIcons icon is the button's own ::before (one element). */
function button(action, icon, label, title) {
  const b = el("button", `p-button p-component p-button-sm p-button-text sn-btn pi ${icon}`, {
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
 * most entries lack (tags, sweep, note, "more", no-image placeholder) are added when needed. A grid:
 * the seed across the top, the thumbnail beside the tags and settings, then the prompt, the note,
 * the file name and the actions across the card.
 */
function entryTemplate() {
  const item = el("article", "sn-entry", { role: "listitem" });
  const seedRow = el("div", "sn-seedrow");
  seedRow.append(
    el("span", "sn-seed", { "data-action": "copy", title: "Seed used: click to copy", role: "button", tabindex: "0" }),
    el("span", "sn-time"),
  );
  const open = { target: "_blank", rel: "noopener noreferrer", title: "Open the image in a new tab" };
  const thumb = el("a", "sn-thumb", open);
  thumb.append(el("img", "sn-img", { loading: "lazy", decoding: "async", alt: "" }));
  const info = el("div", "sn-info");
  info.append(el("div", "sn-meta"));
  const actions = el("div", "sn-actions");
  actions.append(
    button("copy", "pi-copy", "Copy seed", "Copy the seed"),
    button("use", "pi-replay", "Use this seed", "Set the Seed Source to fixed with this seed"),
    button("use-all", "pi-sliders-h", "Use all", "Set the seed and the render speed"),
  );
  const prompt = el("div", "sn-prompt", { title: "Prompt" });
  item.append(seedRow, thumb, info, prompt, el("div", "sn-file", { title: "File" }), actions);
  return item;
}

let template = null;
let parts = null; // small skeletons of the optional parts, cloned when an entry needs them

function partTemplates() {
  const noImage = el("div", "sn-thumb sn-noimage", { title: "No image recorded" });
  noImage.append(el("i", "pi pi-image", { "aria-hidden": "true" }));
  const note = el("div", "sn-note", { title: "Reproducibility" });
  note.append(el("i", "pi pi-info-circle", { "aria-hidden": "true" }), el("span"));
  return {
    noImage,
    note,
    tags: el("div", "sn-tags"),
    speed: el("span", "sn-tag sn-speed", { title: "Render speed" }),
    label: el("span", "sn-tag sn-label", { title: "Variant" }),
    sweep: el("div", "sn-sweep"),
    more: el("button", "sn-more", { type: "button", "data-action": "expand" }),
  };
}

function part(name, value) {
  const node = parts[name].cloneNode(true);
  if (value !== undefined) (node.lastChild ?? node).textContent = value;
  return node;
}

function formatNumber(value) {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/** "dpmpp_2m karras · 20 steps · cfg 7 · 512×512 · model.safetensors" (the parts that are known). */
export function metaLine(entry) {
  const parts = [];
  const sampler = [entry.sampler, entry.scheduler].filter(Boolean).join(" ");
  if (sampler) parts.push(sampler);
  if (entry.steps !== null) parts.push(`${formatNumber(entry.steps)} steps`);
  if (entry.cfg !== null) parts.push(`cfg ${formatNumber(entry.cfg)}`);
  if (entry.denoise !== null && entry.denoise < 1) parts.push(`denoise ${formatNumber(entry.denoise)}`);
  if (entry.width !== null && entry.height !== null) parts.push(`${entry.width}×${entry.height}`);
  if (entry.batchIndex !== null) parts.push(`batch #${entry.batchIndex}`);
  if (entry.model) parts.push(entry.model);
  return parts.join(" · ");
}

function timeText(time, today) {
  if (!time) return "";
  const date = new Date(time);
  const clock = timeFormat.format(date);
  return date.toDateString() === today ? clock : `${dayFormat.format(date)} ${clock}`;
}

function fillEntry(item, entry, ctx) {
  const [seedRow, thumb, info, prompt, file, actions] = item.children;
  const [seed, time] = seedRow.children;
  const meta = info.firstChild;
  item.setAttribute("data-key", entry.key);
  item.setAttribute("data-prompt-id", entry.promptId);

  if (entry.seed === null) {
    seed.textContent = "—";
    seed.removeAttribute("data-action");
    seed.title = "No seed recorded";
  } else {
    seed.textContent = String(entry.seed);
  }
  time.textContent = timeText(entry.time, ctx.today);

  if (entry.image) {
    const url = ctx.imageURL(entry.image);
    thumb.firstChild.alt = entry.image.filename;
    if (ctx.eager) showThumb(thumb, url);
    else {
      thumb.dataset.src = url;
      ctx.thumbs.push(thumb);
    }
  } else {
    thumb.replaceWith(part("noImage"));
  }

  if (entry.speed || entry.label) {
    const tags = part("tags");
    if (entry.speed) tags.append(part("speed", entry.speed));
    if (entry.label) tags.append(part("label", entry.label));
    info.prepend(tags);
  }
  const line = metaLine(entry);
  if (line) meta.textContent = line;
  else meta.remove();
  if (entry.seeds) {
    const range = `sweep: ${entry.seeds[0]} … ${entry.seeds[entry.seeds.length - 1]} (${entry.seeds.length} seeds)`;
    info.append(part("sweep", range));
  }

  if (entry.positive) {
    prompt.textContent = entry.positive;
    if (entry.positive.length > PROMPT_CLAMP_CHARS || entry.positive.includes("\n")) {
      const open = ctx.state.expanded.has(entry.key);
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

  const [copy, use, useAll] = actions.children;
  if (entry.seed === null) {
    copy.disabled = true;
    use.disabled = true;
  }
  if (!entry.speed) useAll.remove();
}

const CHUNK = 25;
const EAGER_THUMBNAILS = 16; // the first cards get their image at once; the others when scrolled to

function showThumb(thumb, url) {
  thumb.href = url;
  thumb.firstChild.src = url;
  delete thumb.dataset.src;
}

// One observer per list: sets a card's link and image when it comes near the visible part of the list
// (cheaper than 1,000 images with `src` set, even lazy ones; the native lazy loading stays on too).
const observers = new WeakMap();

function scrollParent(node) {
  for (let e = node.parentElement; e; e = e.parentElement) {
    const overflow = getComputedStyle(e).overflowY;
    if (overflow === "auto" || overflow === "scroll") return e;
  }
  return null;
}

function observeThumbs(list, thumbs) {
  observers.get(list)?.disconnect();
  if (!thumbs.length) return;
  if (typeof IntersectionObserver !== "function") {
    for (const thumb of thumbs) showThumb(thumb, thumb.dataset.src);
    return;
  }
  const observer = new IntersectionObserver(
    (records) => {
      for (const record of records) {
        if (!record.isIntersecting) continue;
        const thumb = record.target;
        observer.unobserve(thumb);
        if (thumb.dataset.src) showThumb(thumb, thumb.dataset.src);
      }
    },
    { root: scrollParent(list), rootMargin: "600px 0px" },
  );
  observers.set(list, observer);
  for (const thumb of thumbs) observer.observe(thumb);
}

// Each entry's card, built once and reused by later renders (entries never change: a changed
// prompt gets new entry objects), so a new generation or a filter does not rebuild every card.
let rendered = new WeakMap();

/** Drops the cards built so far: the next render builds every card again (the benchmark's cold case). */
export function forgetRendered() {
  rendered = new WeakMap();
}

/** Replaces the list's children with one card per entry (all of them: no virtual list). */
export function renderEntries(list, entries, ctx) {
  if (!template) {
    template = entryTemplate();
    parts = partTemplates();
  }
  const fillCtx = { ...ctx, today: new Date().toDateString(), eager: true, thumbs: [] };
  // Cards go in chunks of CHUNK; a chunk out of view is skipped by style and layout
  // (content-visibility: auto), which costs far less per chunk than per card.
  const fragment = document.createDocumentFragment();
  let chunk = null;
  for (let i = 0; i < entries.length; i++) {
    if (i % CHUNK === 0) {
      chunk = document.createElement("div");
      chunk.className = "sn-chunk";
      fragment.append(chunk);
    }
    fillCtx.eager = i < EAGER_THUMBNAILS;
    let item = rendered.get(entries[i]);
    if (!item) {
      item = template.cloneNode(true);
      fillEntry(item, entries[i], fillCtx);
      rendered.set(entries[i], item);
    } else {
      const thumb = item.children[1];
      if (thumb.dataset?.src) {
        if (fillCtx.eager) showThumb(thumb, thumb.dataset.src);
        else fillCtx.thumbs.push(thumb);
      }
    }
    chunk.append(item);
  }
  list.replaceChildren(fragment);
  observeThumbs(list, fillCtx.thumbs);
}

/**
 * Builds the panel inside `container` and returns {update, root}. `update()` re-reads the store.
 * @param {HTMLElement} container
 * @param {{store, state: {query: string, expanded: Set<string>}, imageURL: (img) => string,
 *          onAction: (action: string, entry: object, element: HTMLElement) => void, onClear: () => void}} ctx
 */
export function mountPanel(container, ctx) {
  const root = el("div", "seed-number-panel");
  const header = el("div", "sn-header");
  const titleRow = el("div", "sn-title-row");
  const title = el("h2", "sn-title");
  title.textContent = "Seed Number";
  const count = el("span", "sn-count", { "aria-live": "polite" });
  titleRow.append(title, count);
  const toolbar = el("div", "sn-toolbar");
  const filter = el("input", "p-inputtext p-component sn-filter", {
    type: "search",
    placeholder: "Filter by seed or text",
    "aria-label": "Filter by seed or text",
    spellcheck: "false",
  });
  filter.value = ctx.state.query;
  const clear = button("clear", "pi-trash", "Clear", "Clear the list");
  toolbar.append(filter, clear);
  header.append(titleRow, toolbar);
  const list = el("div", "sn-list", { role: "list", "aria-label": "Recent generations" });
  const empty = el("div", "sn-empty");
  root.append(header, list, empty);
  container.replaceChildren(root);

  const update = () => {
    const all = ctx.store.entries;
    const shown = filterEntries(all, ctx.state.query);
    renderEntries(list, shown, ctx);
    count.textContent = shown.length === all.length ? `${all.length}` : `${shown.length} of ${all.length}`;
    empty.hidden = shown.length > 0;
    empty.textContent = all.length
      ? "Nothing matches the filter."
      : "No generations yet. Run a workflow with a Seed Source: each image appears here with its seed.";
    clear.disabled = all.length === 0;
    return shown.length;
  };

  filter.addEventListener("input", () => {
    ctx.state.query = filter.value;
    update();
  });
  clear.addEventListener("click", () => ctx.onClear());
  const act = (event) => {
    const target = event.target.closest?.("[data-action]");
    if (!target || !list.contains(target) || target.disabled) return;
    const item = target.closest(".sn-entry");
    const entry = item && ctx.store.find(item.dataset.key);
    if (!entry) return;
    const action = target.dataset.action;
    if (action === "expand") {
      const open = item.classList.toggle("sn-expanded");
      if (open) ctx.state.expanded.add(entry.key);
      else ctx.state.expanded.delete(entry.key);
      target.textContent = open ? "less" : "more";
      target.setAttribute("aria-expanded", String(open));
      return;
    }
    ctx.onAction(action, entry, target);
  };
  list.addEventListener("click", act);
  list.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.classList?.contains("sn-seed")) {
      event.preventDefault();
      act(event);
    }
  });
  update();
  return { root, update, list, filter };
}
