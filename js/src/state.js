// Browser-only state of one view (lonboard's store.ts, in small): what the user is doing here
// and now (sort, filter, search, a pending confirmation, the open form, what they dismissed),
// apart from the mirrors of Python's traits and from writing traits back (sync.js).
import { normalizeFilter, normalizeSort, searchTerms } from "./table.js";

/** @typedef {import("./table.js").SortSpec} SortSpec */
/** @typedef {import("./progress.js").Progress} Progress */

/** @param {unknown} v */
export function str(v) {
  return v === null || v === undefined ? "" : String(v);
}

/** @param {any} v @returns {Record<string, any>} */
export function dict(v) {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

/** Keys whose values differ between two dicts (added, changed or removed). */
export function changedKeys(/** @type {Record<string, any> | null | undefined} */ a, /** @type {Record<string, any> | null | undefined} */ b) {
  const x = a || {};
  const y = b || {};
  /** @type {string[]} */
  const out = [];
  for (const k of Object.keys(y)) if (x[k] !== y[k]) out.push(k);
  for (const k of Object.keys(x)) if (!(k in y)) out.push(k);
  return out;
}

/**
 * The view's own state, seeded from the traits it mirrors (sort, filter, search).
 * @param {{get(key: string): any}} model
 */
export function createLocalState(model) {
  const search = str(model.get("search"));
  return {
    /** @type {SortSpec} */ sort: normalizeSort(model.get("sort")),
    filter: normalizeFilter(model.get("filter")),
    search,
    /** @type {string[]} */ terms: searchTerms(search),
    /** a destructive action waiting for its inline confirmation */
    /** @type {{id: string, action: string} | null} */ confirming: null,
    /** the add/edit form while open */
    /** @type {{mode: "create" | "update", id: string | null, opener: HTMLElement | null} | null} */ form: null,
    /** per model id: the error text the user dismissed (a new error shows again) */
    /** @type {Map<string, string>} */ dismissedErrors: new Map(),
    /** the notice seq the user dismissed */
    /** @type {any} */ dismissedNoticeSeq: undefined,
  };
}

/** @typedef {ReturnType<typeof createLocalState>} LocalState */

/** Set the search text and its parsed terms together. @param {LocalState} state @param {string} value */
export function setSearch(state, value) {
  state.search = value;
  state.terms = searchTerms(value);
}

/**
 * The read-only mirrors of Python's per-model traits, replaced wholesale on each change.
 * @param {{get(key: string): any}} model
 */
export function createMirror(model) {
  return {
    /** @type {Record<string, Progress>} */ progress: dict(model.get("progress")),
    /** @type {Record<string, string>} */ busy: dict(model.get("busy")),
    /** @type {Record<string, string>} */ errors: dict(model.get("errors")),
  };
}
