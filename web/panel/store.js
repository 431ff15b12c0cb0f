// Seed Number panel: the entries the panel lists, kept in memory while the page lives (not in the DOM),
// so closing and reopening the sidebar tab shows them again. Pure module: no DOM, no ComfyUI imports.
import { compareEntries } from "./entries.js";

export const DEFAULT_MAX_ENTRIES = 200;
export const MAX_MAX_ENTRIES = 1000;

export function clampMax(value) {
  const n = Math.floor(Number(value));
  if (!Number.isFinite(n)) return DEFAULT_MAX_ENTRIES;
  return Math.min(MAX_MAX_ENTRIES, Math.max(1, n));
}

export class EntryStore {
  constructor(max = DEFAULT_MAX_ENTRIES) {
    this.max = clampMax(max);
    this.entries = []; // newest first
    this.clearedAt = 0; // entries that finished at or before this server time stay hidden
    this.listeners = new Set();
    this.sources = new Map(); // prompt id -> "live" | "history"
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  /**
   * Puts the entries of some prompts in, replacing what the store had for those prompts. A prompt
   * already known from /history is not replaced by live data (the history version knows more).
   * @param {object[]} entries  entries of one or more prompts (buildEntries / historyToEntries)
   * @param {"live"|"history"} source
   */
  put(entries, source = "live", { notify = true } = {}) {
    const byPrompt = new Map();
    for (const entry of entries) {
      if (this.clearedAt && (entry.time ?? 0) <= this.clearedAt) continue;
      if (!byPrompt.has(entry.promptId)) byPrompt.set(entry.promptId, []);
      byPrompt.get(entry.promptId).push(entry);
    }
    for (const promptId of [...byPrompt.keys()]) {
      if (source === "live" && this.sources.get(promptId) === "history") byPrompt.delete(promptId);
      else this.sources.set(promptId, source);
    }
    if (!byPrompt.size) return false;
    const kept = this.entries.filter((e) => !byPrompt.has(e.promptId));
    const merged = kept.concat(...byPrompt.values()).sort(compareEntries);
    this.entries = merged.slice(0, this.max);
    this.forgetDropped();
    if (notify) this.notify();
    return true;
  }

  forgetDropped() {
    const present = new Set(this.entries.map((e) => e.promptId));
    for (const promptId of [...this.sources.keys()]) {
      if (!present.has(promptId)) this.sources.delete(promptId);
    }
  }

  setMax(value) {
    this.max = clampMax(value);
    if (this.entries.length > this.max) {
      this.entries = this.entries.slice(0, this.max);
      this.forgetDropped();
    }
    this.notify();
  }

  /** Empties the list; what had finished by then stays out, also when /history is read again. */
  clear(now = Date.now()) {
    const newest = this.entries.reduce((t, e) => Math.max(t, e.time ?? 0), 0);
    this.clearedAt = Math.max(this.clearedAt, newest || now);
    this.entries = [];
    this.sources.clear();
    this.notify();
  }

  newest() {
    return this.entries.find((e) => e.seed !== null && e.seed !== undefined) ?? null;
  }

  find(key) {
    return this.entries.find((e) => e.key === key) ?? null;
  }
}

/** The entries whose seed or text (prompt, label, model, sampler, file name…) contain `query`. */
export function filterEntries(entries, query) {
  const q = String(query ?? "").trim().toLowerCase();
  if (!q) return entries;
  const words = q.split(/\s+/);
  return entries.filter((e) => words.every((w) => e.search.includes(w)));
}
