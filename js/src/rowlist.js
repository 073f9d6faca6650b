// The row list: which rows are in tbody, in what order. Up to WINDOW_MIN items every row is in
// tbody, in display order, filtered-out rows `hidden`. Above that only matching rows are: all of
// them while at most WINDOW_MIN match, else only those in and near the scroll viewport (a
// window plus overscan) between two spacer rows whose heights stand for the rows not shown
// (measured heights, an estimate for the others). The window follows scrolling (once per
// animation frame), sorting, searching and snapshots. It knows items only by `match` and the
// row element `render(item)` gives it, so it is tested without a view (test/rowlist.test.js).
import { activeElement, setAttr } from "./dom.js";

/** Above this many items only matching rows are rendered; above this many matching rows, only a window. */
export const WINDOW_MIN = 1000;
/** Rows rendered beyond each edge of the viewport when windowed, in px. */
const OVERSCAN_PX = 240;
/** Above this many rows out of place, tbody's children are replaced in one go. */
const BULK_MOVES = 48;
/** Row and header heights until measured, and the viewport height before layout, in px. */
const ROW_ESTIMATE = 46;
const HEAD_ESTIMATE = 30;
const VIEWPORT_FALLBACK = 640;

/**
 * The row list's bookkeeping for one item (kept on the item as `item.slot`).
 * @typedef {{tr: HTMLElement | null, mounted: boolean, h: number, aria: number, pos: number, gen: number}} Slot
 * @typedef {{match: boolean, slot: Slot}} Item
 */

/** @returns {Slot} */
export function newSlot() {
  return { tr: null, mounted: false, h: 0, aria: 0, pos: 0, gen: 0 };
}

export class RowList {
  /**
   * @param {{tbody: HTMLElement, scroller: HTMLElement, thead: HTMLElement, table: HTMLElement,
   *   render: (item: any) => HTMLElement, raf: (fn: () => void) => any, cancelRaf: (id: any) => void}} env
   *   `render(item)` returns the item's row element, built and up to date.
   */
  constructor(env) {
    this.env = env;
    const { tbody, scroller } = env;
    this.doc = tbody.ownerDocument;
    /** @type {Item[]} the items tbody shows from: all (small catalogues) or the matching ones */
    this.shown = [];
    /** @type {Item[]} items whose rows are in tbody, in DOM order */
    this.mounted = [];
    this.windowed = false;
    this.winStart = 0;
    this.winEnd = 0;
    this.rowEstimate = ROW_ESTIMATE;
    this.headHeight = HEAD_ESTIMATE;
    /** the scroller's scrollTop and clientHeight, read once per frame */
    this.viewTop = 0;
    this.viewHeight = 0;
    this.gen = 0;
    /** @type {any} */ this.frameId = null;
    this.closed = false;
    this.spacerTop = this.doc.createElement("tr");
    this.spacerTop.className = "pmm-spacer";
    this.spacerTop.setAttribute("role", "presentation");
    this.spacerTop.setAttribute("aria-hidden", "true");
    this.spacerBottom = /** @type {HTMLElement} */ (this.spacerTop.cloneNode(false));
    this.onScroll = () => {
      this.viewTop = scroller.scrollTop;
      if (this.windowed) this.schedule();
    };
    this.onResize = () => {
      this.viewHeight = scroller.clientHeight;
      if (this.windowed) this.schedule();
    };
    scroller.addEventListener("scroll", this.onScroll, { passive: true });
    const host = /** @type {any} */ (this.doc.defaultView) || globalThis;
    // The viewport's height is known once the view is laid out: re-window then, and on resizes.
    this.resizeObserver = typeof host.ResizeObserver === "function" ? new host.ResizeObserver(this.onResize) : null;
    if (this.resizeObserver) this.resizeObserver.observe(scroller);
  }

  /** Is this item's row in tbody? @param {Item} item */
  isMounted(item) {
    return item.slot.mounted;
  }

  /** An item left the catalogue: take its row out now. @param {Item} item */
  drop(item) {
    if (item.slot.mounted && item.slot.tr) item.slot.tr.remove();
    item.slot.mounted = false;
  }

  /**
   * Show `list` (every item, in display order): put the right rows into tbody.
   * @param {Item[]} list
   */
  show(list) {
    this.sync(list, false, false);
  }

  /**
   * @param {Item[] | null} list null: the list is as before, only the scroll position (or row heights) changed
   * @param {boolean} scrolled @param {boolean} mayKeep keep the window while it still covers the viewport
   */
  sync(list, scrolled, mayKeep) {
    if (list) {
      if (list.length <= WINDOW_MIN) {
        this.shown = list;
        this.patch(list, false, 0, 0);
        return;
      }
      this.shown = list.filter((item) => item.match);
    }
    const shown = this.shown;
    if (shown.length <= WINDOW_MIN) {
      this.patch(shown, false, 0, 0);
      return;
    }
    const n = shown.length;
    const est = this.rowEstimate;
    let total = 0;
    for (let i = 0; i < n; i++) total += shown[i].slot.h || est;
    // The viewport in tbody coordinates, as of the last frame (reading the scroller's geometry
    // here would force a layout mid-update); the browser clamps scrollTop when the content shrank.
    const vh = this.viewHeight || VIEWPORT_FALLBACK;
    const top = Math.min(this.viewTop, Math.max(0, total + this.headHeight - vh)) - this.headHeight;
    const bottom = top + vh;
    // Rows [start, end) cover [top - overscan, bottom + overscan]; topPx is where `start` begins.
    let start = -1;
    let end = n;
    let topPx = 0;
    let endPx = total;
    let keep = mayKeep && this.windowed && this.winEnd <= n && this.winStart < this.winEnd;
    let y = 0;
    for (let i = 0; i < n; i++) {
      if (keep) {
        if (i === this.winStart) topPx = y;
        if (i === this.winEnd) {
          endPx = y;
          break;
        }
      } else {
        if (start < 0 && y + (shown[i].slot.h || est) > top - OVERSCAN_PX) {
          start = i;
          topPx = y;
        }
        if (start >= 0 && i > start && y >= bottom + OVERSCAN_PX) {
          end = i;
          endPx = y;
          break;
        }
      }
      y += shown[i].slot.h || est;
    }
    if (keep) {
      // Keep the window while it covers the viewport with half the overscan to spare.
      keep = topPx <= Math.max(0, top - OVERSCAN_PX / 2) && endPx >= Math.min(total, bottom + OVERSCAN_PX / 2);
      if (!keep) return this.sync(null, true, false);
      start = this.winStart;
      end = this.winEnd;
    }
    if (start < 0) {
      start = n - 1;
      topPx = total - (shown[start].slot.h || est);
    }
    let bottomPx = total - endPx;
    this.winStart = start;
    this.winEnd = end;
    for (let i = start; i < end; i++) shown[i].slot.pos = i;
    const rows = shown.slice(start, end);
    // A focused row stays in the DOM (just outside the window, the spacer shortened to match)
    // so that scrolling or sorting never destroys the button holding keyboard focus.
    const focused = this.focusedItem();
    if (focused && focused.match) {
      const at = shown.indexOf(focused);
      if (at >= 0 && (at < start || at >= end)) {
        focused.slot.pos = at;
        const h = focused.slot.h || est;
        if (at < start) {
          rows.unshift(focused);
          topPx = Math.max(0, topPx - h);
        } else {
          rows.push(focused);
          bottomPx = Math.max(0, bottomPx - h);
        }
      }
    }
    this.patch(rows, true, topPx, bottomPx);
  }

  /** The mounted item whose row holds keyboard focus, if any. */
  focusedItem() {
    const active = activeElement(this.env.tbody);
    if (!active || !this.env.tbody.contains(active)) return null;
    for (const item of this.mounted) if (item.slot.mounted && item.slot.tr && item.slot.tr.contains(active)) return item;
    return null;
  }

  /**
   * Make tbody hold exactly `list` (in order), moving only rows that are out of place.
   * @param {Item[]} list @param {boolean} win windowed @param {number} topPx @param {number} bottomPx
   */
  patch(list, win, topPx, bottomPx) {
    const { tbody, table, thead, render } = this.env;
    if (list === this.mounted && !win && !this.windowed) {
      // The same rows in the same order (a search or filter change in a small catalogue).
      for (const item of list) {
        const tr = render(item);
        if (tr.hidden !== !item.match) tr.hidden = !item.match;
      }
      return;
    }
    const active = activeElement(tbody);
    const hadFocus = Boolean(active && tbody.contains(active));
    const g = ++this.gen;
    for (const item of list) item.slot.gen = g;
    // Many rows to insert, move or remove (a sort, a big filter change, the first render): one
    // bulk replace of tbody's children costs far less than changing them one by one.
    const old = this.mounted;
    let misplaced = 0;
    let j = 0;
    for (const item of old) if (item.slot.gen !== g) misplaced += 1;
    for (let i = 0; i < list.length && misplaced <= BULK_MOVES; i++) {
      while (j < old.length && old[j].slot.gen !== g) j += 1;
      if (j < old.length && old[j] === list[i]) j += 1;
      else misplaced += 1;
    }
    const bulk = misplaced > BULK_MOVES;
    for (const item of old) {
      const s = item.slot;
      if (s.gen !== g && s.mounted) {
        if (!bulk && s.tr) s.tr.remove();
        s.mounted = false;
      }
    }
    if (this.windowed !== win) {
      this.windowed = win;
      setAttr(table, "data-windowed", win ? "true" : null);
      setAttr(/** @type {HTMLElement} */ (thead.firstElementChild), "aria-rowindex", win ? "1" : null);
    }
    setAttr(table, "aria-rowcount", win ? String(this.shown.length + 1) : null);
    this.setSpacer(this.spacerTop, win ? topPx : 0);
    this.setSpacer(this.spacerBottom, win ? bottomPx : 0);
    let fresh = false;
    for (const item of list) {
      const s = item.slot;
      const tr = (s.tr = render(item));
      if (!s.mounted) {
        s.mounted = true;
        fresh = true;
      }
      if (tr.hidden !== !item.match) tr.hidden = !item.match;
      const aria = win ? s.pos + 2 : 0;
      if (s.aria !== aria) {
        s.aria = aria;
        setAttr(tr, "aria-rowindex", aria ? String(aria) : null);
      }
    }
    const { spacerTop, spacerBottom } = this;
    if (bulk) {
      const nodes = list.map((item) => /** @type {HTMLElement} */ (item.slot.tr));
      if (win && topPx > 0) nodes.unshift(spacerTop);
      if (win && bottomPx > 0) nodes.push(spacerBottom);
      tbody.replaceChildren(...nodes);
    } else {
      if (spacerTop.parentNode && tbody.firstChild !== spacerTop) tbody.insertBefore(spacerTop, tbody.firstChild);
      let cursor = spacerTop.parentNode ? spacerTop.nextSibling : tbody.firstChild;
      for (const item of list) {
        const tr = /** @type {HTMLElement} */ (item.slot.tr);
        if (tr === cursor) cursor = tr.nextSibling;
        else tbody.insertBefore(tr, cursor);
      }
      if (spacerBottom.parentNode && tbody.lastChild !== spacerBottom) tbody.appendChild(spacerBottom);
    }
    this.mounted = list;
    // Moving a row drops focus from a button inside it: put it back.
    if (hadFocus && active && active.isConnected && activeElement(tbody) !== active) active.focus({ preventScroll: true });
    if (win && fresh) this.schedule();
  }

  /** @param {HTMLElement} spacer @param {number} px (0 takes it out of the DOM; patch puts it in) */
  setSpacer(spacer, px) {
    if (px <= 0) {
      if (spacer.parentNode) spacer.remove();
      return;
    }
    const height = `${Math.round(px)}px`;
    if (spacer.style.height !== height) spacer.style.height = height;
    if (!spacer.parentNode) this.env.tbody.appendChild(spacer);
  }

  /** Ask for one frame (while windowed): measure, then move the window if needed. */
  schedule() {
    if (this.frameId === null && !this.closed) this.frameId = this.env.raf(() => this.onFrame());
  }

  /** Once per frame while windowed: measure the rows in the DOM, then move the window if needed. */
  onFrame() {
    this.frameId = null;
    if (this.closed || !this.windowed) return;
    const { thead, scroller } = this.env;
    const hh = thead.offsetHeight;
    if (hh > 0) this.headHeight = hh;
    this.viewTop = scroller.scrollTop;
    this.viewHeight = scroller.clientHeight;
    /** @type {number[]} */
    const hs = [];
    for (const item of this.mounted) {
      const tr = /** @type {HTMLElement} */ (item.slot.tr);
      // Rows off-screen have their contents skipped (content-visibility: auto) and report a
      // placeholder height: keep what was measured before (or the estimate).
      const cell = /** @type {any} */ (tr.firstElementChild);
      if (cell && typeof cell.checkVisibility === "function" && !cell.checkVisibility({ contentVisibilityAuto: true })) continue;
      const h = tr.offsetHeight;
      if (h > 0) {
        item.slot.h = h;
        hs.push(h);
      }
    }
    if (hs.length) {
      hs.sort((a, b) => a - b);
      this.rowEstimate = hs[hs.length >> 1];
    }
    this.sync(null, true, true);
  }

  destroy() {
    this.closed = true;
    this.env.scroller.removeEventListener("scroll", this.onScroll);
    if (this.resizeObserver) this.resizeObserver.disconnect();
    if (this.frameId !== null) this.env.cancelRaf(this.frameId);
    this.frameId = null;
  }
}
