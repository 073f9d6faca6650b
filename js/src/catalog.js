// The catalogue as this view knows it: one entry per model id, in server order, with the
// caches that keep searching and sorting thousands of rows cheap (search text, sort key). Pure
// data: an entry's row element (RowView) and row-list bookkeeping hang off it but are not
// touched here.
import { newSlot } from "./rowlist.js";
import { matchesFilter, matchesSearch, rowSortKey, searchText, sortByKey } from "./table.js";

/** @typedef {import("./table.js").Row} Row */
/** @typedef {import("./table.js").SortSpec} SortSpec */

/**
 * One model. `view` is built lazily, at most once per model id, the first time the row is shown;
 * `dirty` marks a view that missed updates while not in the DOM (rendered when next shown).
 * @param {string} id
 */
export function newEntry(id) {
  return {
    id,
    /** @type {Row} */ row: /** @type {any} */ (null),
    match: true,
    /** @type {string[] | null} lower-cased search fields, built on the first search */
    haystack: null,
    /** sort key cache: column, raw value and key (null = missing) */
    /** @type {string | null} */ kc: null,
    /** @type {any} */ kr: null,
    /** @type {any} */ kv: null,
    /** the snapshot that last listed it */
    seen: 0,
    /** @type {import("./rowview.js").RowView | null} */ view: null,
    dirty: true,
    slot: newSlot(),
  };
}

/** @typedef {ReturnType<typeof newEntry>} Entry */

export class Catalog {
  constructor() {
    /** @type {Map<string, Entry>} */ this.byId = new Map();
    /** @type {Entry[]} in server order */ this.list = [];
    /** @type {Row[]} the rows, in server order */ this.rows = [];
    /** @type {Entry[] | null} in display order (null: sort again) */ this.sorted = null;
    this.visible = 0;
    this.stamp = 0;
  }

  /**
   * Does an entry pass the filter chip and the search terms?
   * @param {Entry} entry @param {string} filter @param {string[]} terms
   */
  static matches(entry, filter, terms) {
    if (!matchesFilter(entry.row, filter)) return false;
    if (terms.length === 0) return true;
    if (!entry.haystack) entry.haystack = searchText(entry.row);
    return matchesSearch(entry.haystack, terms);
  }

  /** Recompute every entry's match (filter or search changed). @param {string} filter @param {string[]} terms */
  rematch(filter, terms) {
    let count = 0;
    for (const entry of this.list) {
      entry.match = Catalog.matches(entry, filter, terms);
      if (entry.match) count += 1;
    }
    this.visible = count;
  }

  /**
   * Reconcile a snapshot by id: entries are kept (and their row objects swapped), new ones made,
   * missing ones removed. Duplicate ids: the first wins; ids become strings.
   * @param {unknown} incoming the models trait
   * @param {{filter: string, terms: string[], sortColumn: string | null, onRow: (entry: Entry) => void}} how
   * @returns {{moved: boolean, removed: Entry[]}} moved: the display order or the matches may have changed
   */
  apply(incoming, how) {
    const stamp = ++this.stamp;
    const column = how.sortColumn;
    /** @type {Row[]} */ const rows = [];
    /** @type {Entry[]} */ const list = [];
    let moved = false;
    let count = 0;
    for (const r of Array.isArray(incoming) ? incoming : []) {
      if (!r || typeof r !== "object" || r.id === null || r.id === undefined) continue;
      const id = String(r.id);
      let entry = this.byId.get(id);
      if (entry && entry.seen === stamp) continue; // a duplicate id: the first one wins
      if (!entry) {
        entry = newEntry(id);
        this.byId.set(id, entry);
      }
      entry.seen = stamp;
      const row = r.id === id ? r : { ...r, id };
      const old = entry.row;
      if (old !== row) {
        entry.row = row;
        entry.haystack = null;
        how.onRow(entry);
        const match = Catalog.matches(entry, how.filter, how.terms);
        // A new snapshot brings new row objects: only a changed sort value or match moves rows.
        if (match !== entry.match || !old || (column && /** @type {any} */ (old)[column] !== /** @type {any} */ (row)[column])) moved = true;
        entry.match = match;
      }
      if (this.list[list.length] !== entry) moved = true;
      if (entry.match) count += 1;
      rows.push(row);
      list.push(entry);
    }
    if (list.length !== this.list.length) moved = true;
    /** @type {Entry[]} */
    const removed = [];
    if (this.byId.size > list.length) {
      for (const [id, entry] of this.byId) {
        if (entry.seen !== stamp) {
          this.byId.delete(id);
          removed.push(entry);
          moved = true;
        }
      }
    }
    this.rows = rows;
    this.list = list;
    this.visible = count;
    if (moved) this.sorted = null;
    return { moved, removed };
  }

  /** Every entry in display order: sorted on raw values (keys cached per row), else server order. @param {SortSpec} sort */
  order(sort) {
    if (this.sorted) return this.sorted;
    const column = sort.column;
    if (!column) return (this.sorted = this.list);
    this.sorted = sortByKey(this.list, (entry) => {
      const raw = /** @type {any} */ (entry.row)[column];
      if (entry.kc !== column || entry.kr !== raw) {
        entry.kc = column;
        entry.kr = raw;
        entry.kv = rowSortKey(entry.row, column);
      }
      return entry.kv;
    }, sort.descending);
    return this.sorted;
  }
}
