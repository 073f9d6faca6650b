// Pure table logic (no DOM): columns, sorting on raw values, filter chips and search.
import { formatBytes, formatInteger, formatParameters, formatTokens, isNum } from "./format.js";

/**
 * A compact row as the Python side sends it (docs/architecture.md, "Row dict").
 * @typedef {{
 *   id: string, name?: string|null, unique?: string|null, provider?: string|null,
 *   foundation?: string|null, cloud?: boolean|null, downloaded?: boolean|null,
 *   downloading?: boolean|null, loaded?: boolean|null, custom?: boolean|null, cpu?: boolean|null,
 *   bytes?: number|null, ram?: number|null, parameters?: number|null, quantization?: string|null,
 *   max_tokens?: number|null, version?: string|null, type?: string|null, usage?: string|null,
 *   description?: string|null, state?: string|null, fit?: string|null, fit_text?: string|null,
 *   fit_unload?: string[]|null, used?: number|null
 * }} Row
 */

/** @typedef {{column: string|null, descending: boolean}} SortSpec */

/**
 * The columns, in display order: the ONE place a column is declared. Keyed by the DataFrame
 * column they sort (the testability contract). `kind` picks the sort comparison (text:
 * case-insensitive, numeric-aware; number; bool; state). The rest drives the row view:
 * - `cell`: the td's classes; `numeric`: right-aligned, tabular figures;
 * - `widths`: grid track per container size [wide, <=1200px, <=900px, <=520px]; null folds the
 *   column away at that size and below (its value then shows in the name cell's meta line);
 * - `text(raw)`: the cell text (columns with a custom renderer in rowview.js have none);
 *   `attr`: mirror the text in the cell's `data-value` (a literal name: server data never names attributes); `title(row)`: the exact-value tooltip;
 *   `meta(text)`: how the value reads on the meta line when the column is folded; `metaFirst`: it
 *   leads its fold level's part of the meta line (the fit stays in view when the line is clamped).
 * @type {{key: string, label: string, kind: string, numeric?: boolean, cell?: string,
 *   widths: (string | null)[], value?: (row: Row) => any, text?: (raw: any) => string, attr?: boolean,
 *   title?: (row: Row) => string, meta?: (text: string) => string, metaFirst?: boolean}[]}
 */
export const COLUMNS = [
  { key: "name", label: "Name", kind: "text", cell: "pmm-c-name", widths: ["minmax(172px, 1fr)", "minmax(132px, 1fr)", "minmax(0, 1fr)", "minmax(0, 1fr)"] },
  { key: "provider", label: "Provider", kind: "text", cell: "pmm-c-provider", widths: ["112px", null, null, null], meta: (t) => t },
  {
    key: "cloud", label: "Where", kind: "bool", cell: "pmm-c-where", widths: ["60px", "52px", "52px", null],
    text: (v) => (v === null || v === undefined ? "" : v ? "cloud" : "local"), attr: true, meta: (t) => t,
  },
  { key: "state", label: "State", kind: "state", cell: "pmm-c-state", widths: ["156px", "136px", "136px", "134px"] },
  {
    key: "bytes", label: "Size", kind: "number", numeric: true, widths: ["80px", "70px", "70px", null], text: numText(formatBytes),
    title: (r) => (isNum(r.bytes) ? `${formatInteger(r.bytes)} bytes on disk` : ""), meta: (t) => t,
  },
  {
    key: "ram", label: "RAM", kind: "number", numeric: true, widths: ["78px", "68px", null, null], text: numText(formatBytes),
    title: (r) => (isNum(r.ram) ? `about ${formatInteger(r.ram)} bytes of RAM when loaded` : ""), meta: (t) => `${t} RAM`,
  },
  {
    key: "fit", label: "Fit", kind: "fit", cell: "pmm-c-fit", widths: ["74px", "70px", null, null], value: fitLabel, text: str, attr: true,
    title: (r) => str(r.fit_text), meta: (t) => t, metaFirst: true,
  },
  {
    key: "parameters", label: "Params", kind: "number", numeric: true, widths: ["66px", "54px", null, null], text: numText(formatParameters),
    title: (r) => (isNum(r.parameters) ? `${r.parameters} billion parameters` : ""), meta: (t) => `${t} params`,
  },
  {
    key: "quantization", label: "Quant", kind: "text", cell: "pmm-c-quant pmm-mono", widths: ["72px", "62px", null, null], text: str,
    title: (r) => str(r.quantization), meta: (t) => t,
  },
  {
    key: "max_tokens", label: "Context", kind: "number", numeric: true, widths: ["66px", "56px", null, null], text: numText(formatTokens),
    title: (r) => (isNum(r.max_tokens) ? `${formatInteger(r.max_tokens)} tokens of context` : ""), meta: (t) => `${t} context`,
  },
];

/** The selection checkbox column (first; not sortable, not a row field): its grid track per size. */
export const SELECT_WIDTHS = ["28px", "28px", "28px", "26px"];

/** The actions column (not sortable, not a row field): its grid track per container size. */
export const ACTIONS_WIDTHS = ["228px", "164px", "minmax(140px, 160px)", "minmax(112px, 124px)"];

/** @param {unknown} v */
function str(v) {
  return v === null || v === undefined ? "" : String(v);
}

/** Fit answers in sort order (the most runnable first); unknown values follow, by text. */
export const FIT_ORDER = ["fits", "unload", "too-large", "unknown"];
const FIT_RANK = new Map(FIT_ORDER.map((s, i) => [s, i]));

/**
 * The fit cell's short text: "fits", "unload N" (N models to unload first), "too large",
 * "unknown"; empty for cloud models (no fit).
 * @param {Row} row @returns {string}
 */
export function fitLabel(row) {
  const fit = row.fit;
  if (fit === null || fit === undefined || fit === "") return "";
  if (fit === "unload") {
    const n = Array.isArray(row.fit_unload) ? row.fit_unload.length : 0;
    return n ? `unload ${n}` : "unload";
  }
  if (fit === "too-large") return "too large";
  return String(fit);
}

/** Cell text of a numeric column: numbers formatted, strings as they came, anything else empty. */
function numText(/** @type {(n: number) => string} */ fmt) {
  return (/** @type {unknown} */ raw) => (isNum(raw) ? fmt(/** @type {number} */ (raw)) : typeof raw === "string" ? raw : "");
}

/**
 * The grid-template-columns value of each container size, and each column's fold level (the
 * first size index at which it is folded away; 0: never).
 */
export function gridTemplates() {
  return ACTIONS_WIDTHS.map((actions, i) => [SELECT_WIDTHS[i], ...COLUMNS.map((c) => c.widths[i]).filter(Boolean), actions].join(" "));
}

/** @param {{widths: (string | null)[]}} col @returns {number} */
export function foldLevel(col) {
  const i = col.widths.indexOf(null);
  return i < 0 ? 0 : i;
}

export const COLUMN_KEYS = COLUMNS.map((c) => c.key);
const COLUMN_KIND = new Map(COLUMNS.map((c) => [c.key, c.kind]));

/** State order for sorting ascending: the most "ready" first. Unknown values follow, by text. */
export const STATE_ORDER = ["loaded", "downloading", "downloaded", "available", "cloud"];
const STATE_RANK = new Map(STATE_ORDER.map((s, i) => [s, i]));

/** Filter chips, in toolbar order. */
export const FILTERS = [
  { key: "all", label: "All" },
  { key: "local", label: "Local" },
  { key: "cloud", label: "Cloud" },
  { key: "downloaded", label: "Downloaded" },
  { key: "loaded", label: "Loaded" },
  { key: "custom", label: "Custom" },
  { key: "fits", label: "Fits" },
];
export const FILTER_KEYS = FILTERS.map((f) => f.key);

/** Fields the search box looks into. */
export const SEARCH_FIELDS = [
  "name",
  "unique",
  "provider",
  "foundation",
  "quantization",
  "description",
];

/** @param {unknown} v */
function isMissing(v) {
  return v === null || v === undefined || v === "" || (typeof v === "number" && Number.isNaN(v));
}

/**
 * Sort key of a text: case- and accent-insensitive, digit runs compared as numbers
 * ("Llama 9B" < "Llama 10B"). Plain `<` on these keys is much faster than Intl.Collator.
 * @param {unknown} v
 */
export function textKey(v) {
  let s = String(v);
  if (NON_ASCII.test(s)) s = s.normalize("NFKD").replace(COMBINING, "");
  s = s.toLowerCase();
  return DIGIT.test(s) ? s.replace(DIGITS, padDigits) : s;
}
const NON_ASCII = /[^\x00-\x7f]/;
const COMBINING = /[\u0300-\u036f]/g;
const DIGIT = /\d/;
const DIGITS = /\d+/g;
const ZEROS = "0000000000000000";
/** A digit run without leading zeros, left-padded to 16 digits. @param {string} d */
function padDigits(d) {
  let i = 0;
  while (i < d.length - 1 && d.charCodeAt(i) === 48) i += 1;
  const t = i ? d.slice(i) : d;
  return t.length >= 16 ? t : ZEROS.slice(t.length) + t;
}

/**
 * The ascending sort key of a present (non-missing) raw value of one column kind.
 * @param {any} v @param {string} kind @returns {number | string}
 */
function sortKey(v, kind) {
  switch (kind) {
    case "number":
      return Number(v);
    case "bool":
      return v ? 1 : 0; // false (local) before true (cloud)
    case "fit": {
      const rank = FIT_RANK.get(v);
      return rank !== undefined ? String(rank) : `${FIT_ORDER.length}${textKey(v)}`;
    }
    case "state": {
      const rank = STATE_RANK.get(v);
      return rank !== undefined ? String(rank) : `${STATE_ORDER.length}${textKey(v)}`;
    }
    default:
      return textKey(v);
  }
}

/** @param {SortSpec} sort */
function columnKind(sort) {
  const col = COLUMNS.find((c) => c.key === sort.column);
  return col ? col.kind : "text";
}

/**
 * Normalise a sort trait value ({column, descending}) into a SortSpec; unknown columns -> none.
 * @param {unknown} value
 * @returns {SortSpec}
 */
export function normalizeSort(value) {
  const v = /** @type {any} */ (value) || {};
  const column = typeof v.column === "string" && COLUMN_KEYS.includes(v.column) ? v.column : null;
  return { column, descending: Boolean(column && v.descending) };
}

/** @param {unknown} value @returns {string} a known filter key ("all" when unknown) */
export function normalizeFilter(value) {
  return typeof value === "string" && FILTER_KEYS.includes(value) ? value : "all";
}

/**
 * Next sort after clicking a column header: a new column sorts ascending, the same one toggles.
 * @param {SortSpec} current @param {string} column @returns {SortSpec}
 */
export function nextSort(current, column) {
  if (current.column === column) return { column, descending: !current.descending };
  return { column, descending: false };
}

/**
 * The ascending sort key of a row on one column (compare keys with `<`), or null when the value
 * is missing (missing values sort last in both directions).
 * @param {Row} row @param {string} column @returns {number | string | null}
 */
export function rowSortKey(row, column) {
  const v = /** @type {any} */ (row)[column];
  return isMissing(v) ? null : sortKey(v, COLUMN_KIND.get(column) || "text");
}

/**
 * Stable sort of items on precomputed keys (null = missing: last in both directions).
 * @template T
 * @param {T[]} items @param {(item: T) => number | string | null} keyOf @param {boolean} descending
 * @returns {T[]} a new array
 */
export function sortByKey(items, keyOf, descending) {
  const sign = descending ? -1 : 1;
  /** @type {{item: T, i: number, key: number | string}[]} */
  const present = [];
  /** @type {T[]} */
  const missing = [];
  for (let i = 0; i < items.length; i++) {
    const key = keyOf(items[i]);
    if (key === null) missing.push(items[i]);
    else present.push({ item: items[i], i, key });
  }
  present.sort((x, y) => (x.key < y.key ? -sign : x.key > y.key ? sign : x.i - y.i));
  const out = new Array(present.length + missing.length);
  let k = 0;
  for (const x of present) out[k++] = x.item;
  for (const item of missing) out[k++] = item;
  return out;
}

/**
 * Stable sort on raw values (bytes, not "4.1 GB"); missing values last either way.
 * Keys are computed once per row. Returns a new array; with no sort column, the input order.
 * @template {Row} T
 * @param {T[]} rows @param {SortSpec} sort @returns {T[]}
 */
export function sortRows(rows, sort) {
  if (!sort || !sort.column) return rows.slice();
  const column = sort.column;
  const kind = columnKind(sort);
  return sortByKey(rows, (row) => {
    const v = /** @type {any} */ (row)[column];
    return isMissing(v) ? null : sortKey(v, kind);
  }, sort.descending);
}

/**
 * Does a row pass a filter chip?
 * @param {Row} row @param {string} filter
 */
export function matchesFilter(row, filter) {
  switch (filter) {
    case "local":
      return !row.cloud;
    case "cloud":
      return Boolean(row.cloud);
    case "downloaded":
      return Boolean(row.downloaded) || row.state === "downloaded" || row.state === "loaded";
    case "loaded":
      return Boolean(row.loaded) || row.state === "loaded";
    case "custom":
      return Boolean(row.custom);
    case "fits":
      return !row.cloud && row.fit === "fits";
    default:
      return true;
  }
}

/**
 * The lower-cased field texts the search looks into (cache it per row).
 * @param {Row} row @returns {string[]}
 */
export function searchText(row) {
  /** @type {string[]} */
  const out = [];
  for (const f of SEARCH_FIELDS) {
    const v = /** @type {any} */ (row)[f];
    if (v !== null && v !== undefined && v !== "") out.push(String(v).toLowerCase());
  }
  return out;
}

/**
 * The search needle(s): the whole query, trimmed and lower-cased, as one substring (the same
 * rule as the Python side's `select_models`, so the table and `to_dataframe()` agree).
 * Returns [] for an empty query.
 * @param {string | null | undefined} query @returns {string[]}
 */
export function searchTerms(query) {
  const needle = String(query || "").trim().toLowerCase();
  return needle ? [needle] : [];
}

/**
 * Case-insensitive substring search over name, unique, provider, foundation, quantization and
 * description (a match inside one field; the needle never spans two fields).
 * @param {Row | string[]} rowOrFields a row, or its precomputed searchText
 * @param {string[] | string} terms searchTerms(query), or the raw query
 */
export function matchesSearch(rowOrFields, terms) {
  const t = typeof terms === "string" ? searchTerms(terms) : terms;
  if (t.length === 0) return true;
  const fields = Array.isArray(rowOrFields) ? rowOrFields : searchText(rowOrFields);
  for (const term of t) {
    let found = false;
    for (const f of fields) {
      if (f.includes(term)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/**
 * Rows that pass both the filter chip and the search, in the given order.
 * @template {Row} T
 * @param {T[]} rows @param {string} filter @param {string} query @returns {T[]}
 */
export function filterRows(rows, filter, query) {
  const terms = searchTerms(query);
  return rows.filter((r) => matchesFilter(r, filter) && matchesSearch(r, terms));
}

/**
 * How many rows each filter chip would show.
 * @param {Row[]} rows @returns {Record<string, number>}
 */
export function filterCounts(rows) {
  // One pass, the same rules as matchesFilter (kept in step by a unit test).
  let cloud = 0;
  let downloaded = 0;
  let loaded = 0;
  let custom = 0;
  let fits = 0;
  for (const r of rows) {
    if (r.cloud) cloud += 1;
    const st = r.state;
    if (r.downloaded || st === "downloaded" || st === "loaded") downloaded += 1;
    if (r.loaded || st === "loaded") loaded += 1;
    if (r.custom) custom += 1;
    if (!r.cloud && r.fit === "fits") fits += 1;
  }
  return { all: rows.length, local: rows.length - cloud, cloud, downloaded, loaded, custom, fits };
}
