// @ts-check
// Seed Number panel: reads the server's /history in pages, newest first. Pure module: the caller
// passes the fetch; no DOM, no ComfyUI imports.
//
// ComfyUI 0.3.64 (server.py GET /history → execution.py PromptQueue.get_history): `max_items=N`
// alone answers the newest N items; `offset=K&max_items=N` answers items K … K+N-1 counted from the
// OLDEST (offset < 0 means "the newest N"); within an answer items are oldest first. There is no
// count: to page backwards from the newest page the pager finds the number of items once, to within
// half a page, with one-item probes (exponential, then binary search: about 2·log2(items / page)),
// then walks down contiguously. New items are appended at the end, so they shift nothing; when
// the server drops its oldest items (over 10,000) or one is deleted, later pages overlap earlier
// ones, and items already read are skipped by id — nothing is skipped over.

/** @import { Json } from "./entries.js" */

export const PAGE_ITEMS = 100;

export class HistoryPager {
  /**
   * @param {(path: string) => Promise<Json | null>} fetchJSON  GET a path relative to the API;
   *   resolves to the parsed answer, or throws / resolves null on failure
   * @param {{pageItems?: number}} options
   */
  constructor(fetchJSON, { pageItems = PAGE_ITEMS } = {}) {
    this.fetchJSON = fetchJSON;
    this.pageItems = Math.max(1, Math.floor(pageItems));
    /** @type {number | null} */
    this.end = null; // index (from the oldest) of the oldest item read, once known
    this.started = false;
    this.done = false;
    this.loading = false;
    this.failures = 0;
    /** @type {Set<string>} */
    this.seen = new Set(); // prompt ids read
    this.pages = 0;
  }

  /**
   * @param {string} query
   * @returns {Promise<Json>}
   */
  async get(query) {
    const answer = await this.fetchJSON(`/history?${query}`);
    if (!answer || typeof answer !== "object" || Array.isArray(answer)) throw new Error("/history: no object");
    return answer;
  }

  /**
   * Whether the item at `offset` (from the oldest) exists.
   * @param {number} offset
   */
  async exists(offset) {
    return Object.keys(await this.get(`max_items=1&offset=${offset}`)).length > 0;
  }

  /**
   * At least the number of items the server holds, and at most `slack` more, given that there are
   * at least `atLeast`. Too high costs only items read twice (dropped by id); too low would skip some.
   * @param {number} atLeast
   */
  async countItems(atLeast, slack = 1) {
    let lo = atLeast; // known: there are at least lo items
    let hi = Math.max(lo * 2, 1); // there are fewer than hi, once probed
    while (await this.exists(hi - 1)) {
      lo = hi;
      hi *= 2;
    }
    while (hi - 1 - lo > slack) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.exists(mid - 1)) lo = mid;
      else hi = mid;
    }
    return hi - 1;
  }

  /**
   * The next page, newest first: {items: {prompt id: item}} holding only items not read before (in
   * the server's order, oldest first), or null when there is nothing more. A failed request leaves
   * the pager where it was (the next call tries again) and rethrows.
   * @returns {Promise<{items: Record<string, Json>} | null>}
   */
  async next() {
    if (this.done || this.loading) return null;
    this.loading = true;
    try {
      const n = this.pageItems;
      let answer;
      if (!this.started) {
        answer = await this.get(`max_items=${n}`);
        this.started = true;
        if (Object.keys(answer).length < n) this.done = true; // everything fitted in one page
      } else {
        // Counted to within half a page (fewer probes); the few items read again are dropped by id.
        if (this.end === null) this.end = Math.max(0, (await this.countItems(n, Math.floor(n / 2))) - n);
        const offset = Math.max(0, this.end - n);
        // One item more than the gap: the page reaches the oldest item read before, if nothing shifted.
        answer = this.end > 0 ? await this.get(`max_items=${this.end - offset + 1}&offset=${offset}`) : {};
        this.end = offset;
        if (offset === 0) this.done = true;
      }
      this.failures = 0;
      this.pages++;
      /** @type {Record<string, Json>} */
      const items = {};
      for (const id of Object.keys(answer)) {
        if (this.seen.has(id)) continue;
        this.seen.add(id);
        items[id] = answer[id];
      }
      return { items };
    } catch (error) {
      this.failures++;
      throw error;
    } finally {
      this.loading = false;
    }
  }
}
