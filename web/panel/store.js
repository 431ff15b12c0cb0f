// @ts-check
// Seed Number panel: the entries the panel lists, kept in memory while the page lives (not in the DOM),
// so closing and reopening the sidebar tab shows them again. Pure module: no DOM, no ComfyUI imports.
// Every operation is linear in the entries at most (no sort of the whole list per arrival), so the
// store holds up to MAX_MAX_ENTRIES entries: small text each, thumbnails live in the DOM only while shown.
import { compareEntries } from "./entries.js";

/** @import { Entry } from "./entries.js" */
/**
 * A list of entries that may be a filter's answer: `positions` holds each one's place in the store's
 * list (absent when it is the store's list itself).
 * @typedef {Entry[] & {positions?: Int32Array}} EntryList
 */

export const DEFAULT_MAX_ENTRIES = 200;
export const MAX_MAX_ENTRIES = 100000;

/** @param {unknown} value */
export function clampMax(value) {
  const n = Math.floor(Number(value));
  if (!Number.isFinite(n)) return DEFAULT_MAX_ENTRIES;
  return Math.min(MAX_MAX_ENTRIES, Math.max(1, n));
}

/**
 * Merges two lists sorted by compareEntries into one (linear; both are left as they are).
 * @param {Entry[]} a
 * @param {Entry[]} b
 * @returns {Entry[]}
 */
export function mergeSorted(a, b) {
  const out = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compareEntries(a[i], b[j]) <= 0 ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

export class EntryStore {
  constructor(max = DEFAULT_MAX_ENTRIES) {
    this.max = clampMax(max);
    /** @type {Entry[]} */
    this.entries = []; // newest first
    // The panel's measured card height of entries[i] (0: not measured yet), kept beside the list so
    // that the list can lay out 100,000 entries without reading 100,000 objects (entry.h holds it too).
    this.heights = new Float64Array(0);
    this.clearedAt = 0; // entries that finished at or before this server time stay hidden
    /** @type {Set<(store: EntryStore) => void>} */
    this.listeners = new Set();
    /** @type {Map<string, "live" | "history">} */
    this.sources = new Map(); // prompt id -> "live" | "history"
    /** @type {Map<string, Entry> | null} */
    this.byKey = null; // key -> entry, built on the first find() after a change
    this.version = 0; // bumped on every change of `entries`
  }

  /**
   * Calls `listener` after every change; returns the call that stops it.
   * @param {(store: EntryStore) => void} listener
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  changed() {
    this.byKey = null;
    this.version++;
    if (this.heights.length !== this.entries.length) {
      // The list was replaced from outside (the benchmark): heights from the entries.
      this.heights = Float64Array.from(this.entries, (e) => e.h || 0);
    }
  }

  /**
   * Records the measured card height of entries[i].
   * @param {number} i
   * @param {number} height
   */
  measured(i, height) {
    const entry = this.entries[i];
    if (entry) entry.h = height;
    if (i < this.heights.length) this.heights[i] = height;
  }

  /**
   * Puts the entries of some prompts in, replacing what the store had for those prompts. A prompt
   * already known from /history is not replaced by live data (the history version knows more).
   * Linear in the entries held plus those given (a merge, not a sort of everything).
   * @param {Entry[]} entries  entries of one or more prompts (buildEntries / historyToEntries)
   * @param {"live"|"history"} source
   * @param {{notify?: boolean}} options  `notify`: tell the listeners (default)
   * @returns {boolean} whether anything changed
   */
  put(entries, source = "live", { notify = true } = {}) {
    /** @type {Map<string, boolean>} */
    const incoming = new Map(); // prompt id -> whether its entries go in
    const fresh = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (this.clearedAt && (entry.time ?? 0) <= this.clearedAt) continue;
      let take = incoming.get(entry.promptId);
      if (take === undefined) {
        take = !(source === "live" && this.sources.get(entry.promptId) === "history");
        incoming.set(entry.promptId, take);
        if (take) this.sources.set(entry.promptId, source);
      }
      if (take) fresh.push(entry);
    }
    if (!fresh.length) return false;
    let sorted = true;
    for (let i = 1; i < fresh.length && sorted; i++) sorted = compareEntries(fresh[i - 1], fresh[i]) <= 0;
    if (!sorted) fresh.sort(compareEntries);
    // Entries of the prompts given are replaced; entries already known by key keep their measured
    // card height.
    /** @type {Map<string, Entry>} */
    const known = new Map();
    /** @type {Entry[]} */
    const kept = [];
    /** @type {number[]} */
    const keptAt = [];
    const old = this.entries;
    for (let i = 0; i < old.length; i++) {
      const e = old[i];
      if (incoming.get(e.promptId) === true) known.set(e.key, e);
      else {
        kept.push(e);
        keptAt.push(i);
      }
    }
    if (known.size) {
      for (let i = 0; i < fresh.length; i++) {
        const was = known.get(fresh[i].key);
        if (was && was.h && !fresh[i].h) fresh[i].h = was.h;
      }
    }
    // Merge the two sorted lists, the heights alongside; only the newest `max` are kept.
    const length = Math.min(this.max, kept.length + fresh.length);
    const cut = kept.length + fresh.length > this.max;
    const merged = new Array(length);
    const heights = new Float64Array(length);
    const oldHeights = this.heights;
    let i = 0;
    let j = 0;
    for (let k = 0; k < length; k++) {
      if (j >= fresh.length || (i < kept.length && compareEntries(kept[i], fresh[j]) <= 0)) {
        heights[k] = oldHeights[keptAt[i]];
        merged[k] = kept[i++];
      } else {
        heights[k] = fresh[j].h;
        merged[k] = fresh[j++];
      }
    }
    this.entries = merged;
    this.heights = heights;
    if (cut) this.forgetDropped(); // else every prompt listed before is still listed
    this.changed();
    if (notify) this.notify();
    return true;
  }

  /** Forgets the source of prompts no longer listed. */
  forgetDropped() {
    const present = new Set();
    for (const e of this.entries) present.add(e.promptId);
    for (const promptId of Array.from(this.sources.keys())) {
      if (!present.has(promptId)) this.sources.delete(promptId);
    }
  }

  /** @param {unknown} value */
  setMax(value) {
    this.max = clampMax(value);
    if (this.entries.length > this.max) {
      this.entries = this.entries.slice(0, this.max);
      this.heights = this.heights.slice(0, this.max);
      this.forgetDropped();
      this.changed();
    }
    this.notify();
  }

  /** Empties the list; what had finished by then stays out, also when /history is read again. */
  clear(now = Date.now()) {
    let newest = 0;
    for (const e of this.entries) newest = Math.max(newest, e.time ?? 0);
    this.clearedAt = Math.max(this.clearedAt, newest || now);
    this.entries = [];
    this.heights = new Float64Array(0);
    this.sources.clear();
    this.changed();
    this.notify();
  }

  newest() {
    return this.entries.find((e) => e.seed !== null && e.seed !== undefined) ?? null;
  }

  /**
   * The entry with this key, else null.
   * @param {string} key
   */
  find(key) {
    if (!this.byKey) {
      this.byKey = new Map();
      for (const e of this.entries) this.byKey.set(e.key, e);
    }
    return this.byKey.get(key) ?? null;
  }

  /** The oldest finish time listed (0 when empty). */
  oldestTime() {
    return this.entries.length ? (this.entries[this.entries.length - 1].time ?? 0) : 0;
  }

  full() {
    return this.entries.length >= this.max;
  }
}

export const MAX_PENDING_RUNS = 16;

/**
 * The outputs of this tab's runs that are still running, from the websocket's `executed` events:
 * {node id: ui output} per prompt id, taken when the run's end (success, error, interrupted) arrives.
 * ComfyUI runs one prompt at a time, so when a run starts, the runs still held never got their end
 * here (the socket dropped, the server restarted): they are dropped then. At most `max` are held (the
 * oldest dropped first), whatever events are missed. Dropped prompt ids are returned (to read those
 * runs from /history instead).
 */
export class PendingRuns {
  constructor(max = MAX_PENDING_RUNS) {
    this.max = Math.max(1, Math.floor(max));
    /** @type {Map<string, Record<string, unknown>>} */
    this.runs = new Map(); // insertion order: oldest first
  }

  get size() {
    return this.runs.size;
  }

  /**
   * Run `promptId` started: drops the other runs held (they ended unseen).
   * @param {string} promptId
   * @returns {string[]} the prompt ids dropped
   */
  started(promptId) {
    const dropped = [];
    for (const id of this.runs.keys()) if (id !== promptId) dropped.push(id);
    for (const id of dropped) this.runs.delete(id);
    return dropped;
  }

  /**
   * Keeps one node's output of run `promptId`.
   * @param {string} promptId
   * @param {string} nodeId
   * @param {unknown} output
   * @returns {string[]} the prompt ids dropped to stay within `max`
   */
  add(promptId, nodeId, output) {
    let run = this.runs.get(promptId);
    const dropped = [];
    if (!run) {
      run = {};
      this.runs.set(promptId, run);
      for (const id of this.runs.keys()) {
        if (this.runs.size <= this.max) break;
        this.runs.delete(id);
        dropped.push(id);
      }
    }
    run[nodeId] = output;
    return dropped;
  }

  /**
   * Run `promptId` ended: its outputs ({node id: ui output}), no longer held; null when none came.
   * @param {string} promptId
   * @returns {Record<string, unknown> | null}
   */
  take(promptId) {
    const run = this.runs.get(promptId) ?? null;
    this.runs.delete(promptId);
    return run;
  }
}

/**
 * The words of a filter query, lower case; [] for an empty query.
 * @param {unknown} query
 * @returns {string[]}
 */
export function queryWords(query) {
  const q = String(query ?? "").trim().toLowerCase();
  return q ? q.split(/\s+/) : [];
}

/**
 * The entries whose seed or text (prompt, label, model, sampler, file name…) contain `query`.
 * @param {Entry[]} entries
 * @param {unknown} query
 * @returns {EntryList}
 */
export function filterEntries(entries, query) {
  const words = queryWords(query);
  if (!words.length) return entries;
  return matching(entries, words);
}

/**
 * The entries (of `entries`, or of its positions `among`) whose search text holds every word, in
 * order; `.positions` holds their positions in `entries`.
 * @param {Entry[]} entries
 * @param {string[]} words
 * @param {ArrayLike<number> | null} among
 * @returns {EntryList}
 */
function matching(entries, words, among = null) {
  /** @type {EntryList} */
  const out = [];
  const n = among ? among.length : entries.length;
  const at = new Int32Array(n);
  outer: for (let k = 0; k < n; k++) {
    const i = among ? among[k] : k;
    const s = entries[i].search;
    for (let w = 0; w < words.length; w++) if (!s.includes(words[w])) continue outer;
    at[out.length] = i;
    out.push(entries[i]);
  }
  if (out.length === entries.length) return entries; // every entry matches: the list itself
  out.positions = at.subarray(0, out.length);
  return out;
}

/**
 * A filter that remembers its last answer (the entries, and in `.positions` their places in the list):
 * over the same entries, a query that only narrows the last one (each earlier word is contained in
 * the word at its place; words may be added) searches the last answer instead of every entry. The
 * index it searches is each entry's `search` text (seed, prompt,
 * label, speed, model, sampler, note, file name; lower case), built once with the entry.
 */
export class Filter {
  constructor() {
    /** @type {Entry[] | null} */
    this.entries = null;
    /** @type {string[]} */
    this.words = [];
    /** @type {EntryList | null} */
    this.result = null;
  }

  /**
   * The entries that match `query` (all of them, the list itself, for an empty query).
   * @param {Entry[]} entries
   * @param {unknown} query
   * @returns {EntryList}
   */
  apply(entries, query) {
    const words = queryWords(query);
    if (!words.length) {
      this.entries = entries;
      this.words = words;
      this.result = entries;
      return entries;
    }
    const narrows =
      this.entries === entries &&
      this.result &&
      this.words.length > 0 &&
      this.words.length <= words.length &&
      this.words.every((w, i) => words[i].includes(w));
    const result = narrows ? matching(entries, words, this.result?.positions) : matching(entries, words);
    this.entries = entries;
    this.words = words;
    this.result = result;
    return result;
  }
}
