// @ts-check
// Seed Number panel: a virtual list. Only the cards in and just around the visible part of the list
// exist in the DOM, absolutely placed in a sizer as tall as all cards together; each card's height
// is measured when it is shown and kept on its entry (`entry.h`), the rest are estimated. Positions
// come from a Fenwick tree over the heights, so finding the card at a scroll offset, and changing
// one card's height, cost O(log n), and a new list costs one pass over plain numbers.
// No ComfyUI imports; the caller builds and releases the cards.

/**
 * What the list needs of an item: its measured card height (0: not measured; the list sets it) and
 * a key that names it across lists.
 * @typedef {{h: number, key: string}} ListItem
 */
/**
 * A card in the list: an element, with the index of its item and the offset it is placed at.
 * @typedef {HTMLElement & {__snIndex: number, __snY?: number, __snComplete?: boolean}} Card
 */

/**
 * Prefix sums over item heights (a Fenwick tree): O(log n) updates, sums and offset lookups. Heights
 * are kept as differences from a `base` height (the estimate), so a list of which nothing is measured
 * yet costs no pass over its items: its tree is all zeros.
 */
export class HeightIndex {
  /**
   * @param {Float64Array|number[]} heights  the items' heights (0: `base`)
   * @param {number} base
   * @param {number} add  added to each given (non-zero) height: the gap after a card
   */
  constructor(heights, base = 0, add = 0) {
    const n = heights.length;
    this.n = n;
    this.base = base;
    this.deltas = new Float64Array(n); // height - base, per item
    this.tree = new Float64Array(n + 1);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (heights[i]) {
        any = true;
        break;
      }
    }
    if (any) {
      const deltas = this.deltas;
      const tree = this.tree;
      for (let i = 0; i < n; i++) {
        const h = heights[i];
        const d = h ? h + add - base : 0;
        deltas[i] = d;
        tree[i + 1] = d;
      }
      for (let i = 1; i <= n; i++) {
        const j = i + (i & -i);
        if (j <= n) tree[j] += tree[i];
      }
    }
    let top = 1;
    while (top * 2 <= n) top *= 2;
    this.top = n ? top : 0;
  }

  get length() {
    return this.n;
  }

  /** The height of item i. */
  /** @param {number} i */
  get(i) {
    return this.base + this.deltas[i];
  }

  /**
   * Sum of the heights of items 0 … i-1 (the top of item i).
   * @param {number} i
   */
  prefix(i) {
    const m = Math.min(i, this.n);
    let sum = m * this.base;
    for (let k = m; k > 0; k -= k & -k) sum += this.tree[k];
    return sum;
  }

  total() {
    return this.prefix(this.n);
  }

  /**
   * @param {number} i
   * @param {number} height
   */
  set(i, height) {
    const d = height - this.base;
    const delta = d - this.deltas[i];
    if (!delta) return;
    this.deltas[i] = d;
    for (let k = i + 1; k <= this.n; k += k & -k) this.tree[k] += delta;
  }

  /**
   * The item at offset y (0 ≤ y): the last i whose top is ≤ y, clamped to the list.
   * @param {number} y
   */
  indexAt(y) {
    if (!this.n) return 0;
    const base = this.base;
    let pos = 0;
    let rest = y;
    for (let step = this.top; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.n) {
        const sum = this.tree[next] + step * base; // node `next` covers items pos … next-1
        if (sum <= rest) {
          pos = next;
          rest -= sum;
        }
      }
    }
    return Math.min(pos, this.n - 1);
  }
}

/**
 * The list. `viewport` (a new, empty element) scrolls; the list adds its sizer inside it. Whoever
 * scrolls it from outside either uses scrollTo() or lets the scroll event arrive before layout().
 * @template {ListItem} T
 */
export class VirtualList {
  /**
   * @param {HTMLElement} viewport
   * @param {{build: (item: T, index: number) => HTMLElement, release: (card: Card) => void,
   *   complete?: (card: Card, item: T | undefined) => void,
   *   place?: (card: Card, index: number, count: number) => void,
   *   onRange?: (first: number, last: number, count: number) => void,
   *   measured?: (item: T, index: number, height: number) => void,
   *   estimate?: number, gap?: number, padTop?: number, padBottom?: number, overscan?: number}} options
   *   `build` makes an item's card, `release` is told when a card leaves the DOM (drop its image),
   *   `place` when a card gets (or keeps) its position, `onRange` after each layout with the items shown,
   *   `complete` finishes a card in the frame after it was built (what the first paint can do without:
   *   its buttons, its image), or at once by completeNow(); it must not change the card's height.
   */
  constructor(viewport, options) {
    this.viewport = viewport;
    this.options = options;
    this.gap = options.gap ?? 8;
    this.padTop = options.padTop ?? 8;
    this.padBottom = options.padBottom ?? 16;
    this.overscan = options.overscan ?? 240; // px above and below the visible part
    this.estimate = options.estimate ?? 150; // px, for cards not measured yet
    this.sizer = document.createElement("div");
    this.sizer.className = "sn-sizer";
    viewport.append(this.sizer);
    /** @type {T[]} */
    this.items = [];
    this.index = new HeightIndex([]);
    /** @type {Map<T, Card>} */
    this.cards = new Map(); // item -> its card, for the items shown
    this.first = 0;
    this.last = -1;
    this.height = 0; // the viewport's height, kept by a ResizeObserver (no layout read per scroll)
    this.width = 0;
    this.laying = false;
    this.refill = 0; // a frame requested to add the cards around the visible ones
    // Cards built light (what a first paint shows); `complete` finishes them in the next frame.
    /** @type {Set<Card>} */
    this.incomplete = new Set();
    this.finishing = 0;
    // The scroll offset, kept from scroll events and our own scrolling: reading scrollTop would
    // force a style and layout pass each time.
    this.top = 0; // the viewport is a new element
    this.onScroll = () => {
      this.top = viewport.scrollTop;
      this.layout();
    };
    viewport.addEventListener("scroll", this.onScroll, { passive: true });
    if (typeof ResizeObserver === "function") {
      this.viewportObserver = new ResizeObserver(() => this.resized());
      this.viewportObserver.observe(viewport);
      // A card that changes size (expanded prompt, narrower sidebar, late font) is measured again.
      this.cardObserver = new ResizeObserver((records) => this.cardsResized(records));
    }
  }

  /**
   * The height of item i for the index: its measured height (or the estimate) and the gap.
   * @param {T} item
   */
  slot(item) {
    return (item.h || this.estimate) + this.gap;
  }

  /**
   * Lists `items`. `toTop`: scroll to the first item (a new filter). Else the first item visible keeps
   * its place on screen (items inserted above it, like a new generation, do not move the view),
   * unless the list was scrolled to the very top: then new items show on top. `heights`: the items'
   * measured heights (0: not measured), when the caller keeps them densely (else read from `item.h`).
   * @param {T[]} items
   * @param {{toTop?: boolean, heights?: Float64Array | null}} options
   */
  setItems(items, { toTop = false, heights = null } = {}) {
    const viewport = this.viewport;
    const scrollTop = this.top;
    /** @type {T | null} */
    let anchor = null;
    let anchorOffset = 0;
    if (!toTop && scrollTop > 0 && this.items.length) {
      const i = this.index.indexAt(Math.max(0, scrollTop - this.padTop));
      anchor = this.items[i];
      anchorOffset = scrollTop - (this.padTop + this.index.prefix(i));
    }
    this.items = items;
    const gap = this.gap;
    let slots = heights;
    if (!slots) {
      slots = new Float64Array(items.length);
      for (let i = 0; i < slots.length; i++) slots[i] = items[i].h;
    }
    // Measured heights and the gap; unmeasured items (0) take the estimate without a pass over them.
    this.index = new HeightIndex(slots, this.estimate + gap, gap);
    this.setSizerHeight();
    if (toTop) {
      this.scrollTo(0);
    } else if (anchor) {
      let at = items.indexOf(anchor);
      const key = anchor.key;
      if (at < 0) at = items.findIndex((e) => e.key === key);
      if (at >= 0) this.scrollTo(this.padTop + this.index.prefix(at) + anchorOffset);
    }
    this.layout();
  }

  /**
   * Item i's card is `h` px tall: kept on the item, and told to the caller (who may keep it too).
   * @param {T} item
   * @param {number} i
   * @param {number} h
   */
  measured(item, i, h) {
    item.h = h;
    this.options.measured?.(item, i, h);
  }

  /**
   * Scrolls the list to `y` px (clamped as the browser will).
   * @param {number} y
   */
  scrollTo(y) {
    const max = Math.max(0, Math.ceil(this.padTop + this.index.total() + this.padBottom) - (this.height || 0));
    const top = Math.max(0, Math.min(Math.round(y), this.height ? max : Infinity));
    if (top === this.top) return;
    this.top = top;
    this.viewport.scrollTop = top;
  }

  setSizerHeight() {
    const height = `${Math.ceil(this.padTop + this.index.total() + this.padBottom)}px`;
    if (this.sizer.style.height !== height) this.sizer.style.height = height;
  }

  resized() {
    const viewport = this.viewport;
    // A scroll set before the list was in the page (the tab's element is attached after render)
    // did not take: set it again now that the list has a size.
    if (Math.abs(viewport.scrollTop - this.top) > 1) {
      viewport.scrollTop = this.top;
      this.top = viewport.scrollTop;
    }
    const height = viewport.clientHeight;
    const width = viewport.clientWidth;
    if (height === this.height && width === this.width) return;
    this.height = height;
    this.width = width;
    this.layout();
  }

  /** @param {ResizeObserverEntry[]} records */
  cardsResized(records) {
    let changed = false;
    for (const record of records) {
      const card = /** @type {Card} */ (record.target);
      const i = card.__snIndex;
      const item = this.items[i];
      if (item === undefined || this.cards.get(item) !== card || !card.isConnected) continue;
      const h = card.offsetHeight;
      if (h && h !== item.h) {
        this.measured(item, card.__snIndex, h);
        changed = true;
      }
    }
    if (changed) this.remeasured();
  }

  /** Heights changed: rebuild the positions, keep the first visible card where it is. */
  remeasured() {
    const before = this.anchor();
    for (const [item, card] of this.cards) {
      const i = card.__snIndex;
      if (this.items[i] === item) this.index.set(i, this.slot(item));
    }
    this.keepAnchor(before);
    this.layout();
  }

  anchor() {
    const top = this.top;
    if (top <= 0 || !this.items.length) return null;
    const i = this.index.indexAt(Math.max(0, top - this.padTop));
    return { i, y: this.index.prefix(i) };
  }

  /** @param {{i: number, y: number} | null} before */
  keepAnchor(before) {
    this.setSizerHeight();
    if (!before) return;
    const moved = this.index.prefix(before.i) - before.y;
    if (moved) this.scrollTo(this.top + moved);
  }

  /** Builds, places and drops cards for the current scroll offset. Returns the number of items. */
  layout() {
    if (this.laying) return this.items.length;
    this.laying = true;
    try {
      // Until the ResizeObserver reports the list's height (after the first layout), the window's
      // height stands in for it: reading it here would cost a layout pass of its own.
      if (!this.height && !this.viewportObserver) {
        this.height = this.viewport.clientHeight;
        this.width = this.viewport.clientWidth;
      }
      // A first paint, or a jump away from every card shown (the scroll bar dragged): the visible
      // cards now, those just above and below in the next frame.
      let margin = this.overscan;
      if (this.items.length && !this.overlaps()) {
        margin = 0;
        if (!this.refill) {
          this.refill = requestAnimationFrame(() => {
            this.refill = 0;
            this.layout();
          });
        }
      }
      // Three passes at most: another one when the cards measured in a pass were not as tall as
      // estimated and the visible part needs more (or fewer) of them.
      for (let pass = 0; pass < 3; pass++) {
        if (!this.render(margin)) break;
      }
    } finally {
      this.laying = false;
    }
    this.options.onRange?.(this.first, this.last, this.items.length);
    return this.items.length;
  }

  /** Whether a card shown now is in the visible part at the current offset. */
  overlaps() {
    const top = this.top - this.padTop;
    const height = this.height || globalThis.innerHeight || 800;
    const first = this.index.indexAt(Math.max(0, top));
    const last = this.index.indexAt(Math.max(0, top + height));
    for (let i = first; i <= last; i++) if (this.cards.get(this.items[i])?.__snIndex === i) return true;
    return false;
  }

  /**
   * One layout pass over the visible part and `margin` px above and below; true when new cards were
   * measured at heights other than their estimate.
   */
  render(margin = this.overscan) {
    const { items, index, cards, sizer } = this;
    const n = items.length;
    const top = this.top - this.padTop;
    const first = n ? index.indexAt(Math.max(0, top - margin)) : 0;
    const height = this.height || globalThis.innerHeight || 800;
    const last = n ? index.indexAt(Math.max(0, top + height + margin)) : -1;
    this.first = first;
    this.last = last;

    const wanted = new Set();
    for (let i = first; i <= last; i++) wanted.add(items[i]);
    const focused = document.activeElement;
    let pinned = null; // the card holding the focus stays, out of view, so the focus is not lost
    for (const [item, card] of cards) {
      if (wanted.has(item)) continue;
      if (focused && card.contains(focused) && items[card.__snIndex] === item) {
        pinned = card;
        continue;
      }
      cards.delete(item);
      this.drop(card);
    }

    /** @type {Card[]} */
    const built = [];
    /** @type {Card[]} */
    const order = [];
    if (pinned && pinned.__snIndex < first) order.push(pinned);
    for (let i = first; i <= last; i++) {
      const item = items[i];
      let card = cards.get(item);
      if (!card) {
        card = /** @type {Card} */ (this.options.build(item, i)); // __snIndex set below
        cards.set(item, card);
        built.push(card);
      }
      card.__snIndex = i;
      const y = this.padTop + index.prefix(i);
      if (card.__snY !== y) {
        card.style.transform = `translateY(${y}px)`;
        card.__snY = y;
      }
      this.options.place?.(card, i, n);
      order.push(card);
    }
    if (pinned && pinned.__snIndex > last) order.push(pinned);
    // The cards in order in the DOM too (screen readers and the tab order follow the DOM). A card
    // holding the focus is never moved (that would drop the focus): the others move around it.
    let cursor = sizer.firstChild;
    for (const card of order) {
      if (card === cursor) {
        cursor = cursor.nextSibling;
      } else if (focused && card.contains(focused) && card.parentNode === sizer) {
        while (cursor && cursor !== card) {
          const next = cursor.nextSibling;
          sizer.append(cursor);
          cursor = next;
        }
        cursor = card.nextSibling;
      } else {
        sizer.insertBefore(card, cursor);
      }
    }
    if (!built.length) {
      this.setSizerHeight();
      return false;
    }
    if (this.options.complete) {
      for (const card of built) this.incomplete.add(card);
      if (!this.finishing) this.finishing = requestAnimationFrame(() => this.completeNow());
    }
    // Measure the new cards together (one layout), then correct the positions from the first one.
    let changed = false;
    const before = this.anchor();
    for (const card of built) {
      this.cardObserver?.observe(card);
      const item = items[card.__snIndex];
      const h = card.offsetHeight;
      if (h && h !== item.h) {
        this.measured(item, card.__snIndex, h);
        index.set(card.__snIndex, this.slot(item));
        changed = true;
      }
    }
    if (changed) this.keepAnchor(before);
    else this.setSizerHeight();
    if (changed) {
      for (const [item, card] of cards) {
        if (items[card.__snIndex] !== item) continue;
        const y = this.padTop + index.prefix(card.__snIndex);
        if (card.__snY !== y) {
          card.style.transform = `translateY(${y}px)`;
          card.__snY = y;
        }
      }
    }
    return changed;
  }

  /**
   * The card of item i, when it is in the DOM.
   * @param {number} i
   */
  cardAt(i) {
    const card = this.cards.get(this.items[i]);
    return card && card.__snIndex === i ? card : null;
  }

  /**
   * Scrolls just enough for item i to be fully visible, lays out, and returns its card (completed).
   * @param {number} i
   */
  reveal(i) {
    if (i < 0 || i >= this.items.length) return null;
    const viewport = this.viewport;
    const height = this.height || viewport.clientHeight;
    this.height = height;
    // Cards measured on the way may be taller or shorter than estimated: aim again (three times at most).
    for (let pass = 0; pass < 3; pass++) {
      const top = this.padTop + this.index.prefix(i);
      const bottom = top + this.index.get(i) - this.gap;
      if (top < this.top) this.scrollTo(top - this.padTop);
      else if (bottom > this.top + height) this.scrollTo(bottom - height + this.padBottom);
      else if (pass > 0) break;
      this.layout();
      this.completeNow(); // the card is about to be used (focus, Tab to its buttons)
      const card = this.cardAt(i);
      const h = card?.offsetHeight;
      if (h && h !== this.items[i].h) {
        const before = this.anchor();
        this.measured(this.items[i], i, h);
        this.index.set(i, this.slot(this.items[i]));
        this.keepAnchor(before);
      }
    }
    this.layout();
    return this.cardAt(i);
  }

  /** Finishes the cards built light so far (the next frame does it otherwise). */
  completeNow() {
    if (this.finishing) cancelAnimationFrame(this.finishing);
    this.finishing = 0;
    const complete = this.options.complete;
    if (complete) for (const card of this.incomplete) complete(card, this.items[card.__snIndex]);
    this.incomplete.clear();
  }

  /** @param {Card} card */
  drop(card) {
    this.incomplete.delete(card);
    this.cardObserver?.unobserve(card);
    card.remove();
    this.options.release(card);
  }

  /** Drops every card (the next layout builds the visible ones again). */
  forget() {
    for (const [, card] of this.cards) this.drop(card);
    this.cards.clear();
  }

  destroy() {
    if (this.refill) cancelAnimationFrame(this.refill);
    if (this.finishing) cancelAnimationFrame(this.finishing);
    this.refill = 0;
    this.finishing = 0;
    this.forget();
    this.viewport.removeEventListener("scroll", this.onScroll);
    this.viewportObserver?.disconnect();
    this.cardObserver?.disconnect();
  }
}
