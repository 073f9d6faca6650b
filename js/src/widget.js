// ModelManager front end (anywidget). One view = one table; rows are built at most once per model
// id (lazily) and updated in place: a progress tick touches only its row, a new snapshot
// reconciles rows by id, sorting reorders existing rows, filtering toggles `hidden`. Over
// WINDOW_MIN models only matching rows are rendered, and over WINDOW_MIN matching rows only a
// window of them around the scroll viewport (see "row list" below). Server data reaches the DOM
// only through textContent and attribute values.
import { ACTION_LABELS, CONFIRM_ACTIONS, actionEnabled, actionsFor, busyLabel, confirmText } from "./actions.js";
import { h, setAttr, setText } from "./dom.js";
import { buildForm, collectFields, fillForm, readForm } from "./form.js";
import { formatBytes, formatInteger, formatParameters, formatTokens, formatUpdated, isNum } from "./format.js";
import { changedProgressIds, isTerminal, progressView, stateText, terminalAnnouncement } from "./progress.js";
import { summaryText } from "./summary.js";
import {
  COLUMNS,
  FILTERS,
  filterCounts,
  matchesFilter,
  matchesSearch,
  nextSort,
  normalizeFilter,
  normalizeSort,
  rowSortKey,
  searchTerms,
  searchText,
  sortByKey,
} from "./table.js";

/** @typedef {import("./table.js").Row} Row */
/** @typedef {import("./progress.js").Progress} Progress */

/**
 * The part of the anywidget model API this view uses.
 * @typedef {{
 *   get(key: string): any, set(key: string, value: any): void,
 *   on(event: string, cb: (...a: any[]) => void): void, off(event?: string | null, cb?: ((...a: any[]) => void) | null): void,
 *   save_changes(): void, send(msg: any): void
 * }} Model
 */

/**
 * @typedef {{
 *   now?: () => number,
 *   setTimeout?: (fn: () => void, ms: number) => any, clearTimeout?: (t: any) => void,
 *   setInterval?: (fn: () => void, ms: number) => any, clearInterval?: (t: any) => void,
 *   requestAnimationFrame?: (fn: () => void) => any, cancelAnimationFrame?: (id: any) => void,
 *   searchDebounceMs?: number, infoNoticeMs?: number
 * }} ViewOptions
 */

const KNOWN_STATES = new Set(["cloud", "available", "downloading", "downloaded", "loaded"]);
const CANCELLABLE_BUSY = new Set(["download", "downloading", "queued"]);
const SEARCH_DEBOUNCE_MS = 250;
/** Above this many models only matching rows are rendered; above this many matching rows, only a window. */
export const WINDOW_MIN = 1000;
/** Rows rendered beyond each edge of the viewport when windowed, in px. */
const OVERSCAN_PX = 240;
/** Above this many rows out of place, tbody's children are replaced in one go. */
const BULK_MOVES = 48;
/** Row and header heights until measured, and the viewport height before layout, in px. */
const ROW_ESTIMATE = 46;
const HEAD_ESTIMATE = 30;
const VIEWPORT_FALLBACK = 640;
const INFO_NOTICE_MS = 8000;

/** @param {unknown} v */
function str(v) {
  return v === null || v === undefined ? "" : String(v);
}

/** @param {Record<string, any> | null | undefined} a @param {Record<string, any> | null | undefined} b */
function changedKeys(a, b) {
  const x = a || {};
  const y = b || {};
  /** @type {string[]} */
  const out = [];
  for (const k of Object.keys(y)) if (x[k] !== y[k]) out.push(k);
  for (const k of Object.keys(x)) if (!(k in y)) out.push(k);
  return out;
}

/** @param {any} v @returns {Record<string, any>} */
function dict(v) {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

/**
 * Build the view into `el`. Returns `destroy()`, which removes every listener, timer and node.
 * @param {Model} model @param {HTMLElement} el @param {ViewOptions} [options]
 */
export function createView(model, el, options = {}) {
  const doc = el.ownerDocument;
  const now = options.now || (() => Date.now());
  const setT = options.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms));
  const clearT = options.clearTimeout || ((t) => globalThis.clearTimeout(t));
  const setI = options.setInterval || ((fn, ms) => globalThis.setInterval(fn, ms));
  const clearI = options.clearInterval || ((t) => globalThis.clearInterval(t));
  const host = /** @type {any} */ (doc.defaultView) || globalThis;
  const raf = options.requestAnimationFrame || (typeof host.requestAnimationFrame === "function" ? (fn) => host.requestAnimationFrame(fn) : (fn) => setT(fn, 16));
  const cancelRaf = options.cancelAnimationFrame || (typeof host.cancelAnimationFrame === "function" ? (id) => host.cancelAnimationFrame(id) : clearT);
  const searchDebounceMs = options.searchDebounceMs ?? SEARCH_DEBOUNCE_MS;
  const infoNoticeMs = options.infoNoticeMs ?? INFO_NOTICE_MS;
  /** @type {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} */
  const e = (tag, attrs, ...kids) => h(doc, tag, attrs, ...kids);

  // ---------------------------------------------------------------- state
  /** @type {Row[]} */
  let rows = [];
  /** @type {Map<string, any>} */
  const recs = new Map();
  /** @type {any[]} records in server order */
  let serverRecs = [];
  /** @type {any[] | null} records in display order (null: sort again) */
  let sortedRecs = null;
  /** @type {any[]} the rows tbody shows from: all (small catalogues) or the matching ones */
  let shown = [];
  /** @type {any[]} records whose rows are in tbody, in DOM order */
  let mountedList = [];
  let windowed = false;
  let winStart = 0;
  let winEnd = 0;
  let rowEstimate = ROW_ESTIMATE;
  /** the scroller's scrollTop and clientHeight, read once per frame */
  let viewTop = 0;
  let viewHeight = 0;
  let headHeight = HEAD_ESTIMATE;
  let gen = 0;
  let modelsSeq = 0;
  /** @type {any} */ let frameId = null;
  let sort = normalizeSort(model.get("sort"));
  let filter = normalizeFilter(model.get("filter"));
  let search = str(model.get("search"));
  let terms = searchTerms(search);
  /** @type {Record<string, Progress>} */
  let progress = dict(model.get("progress"));
  /** @type {Record<string, string>} */
  let busy = dict(model.get("busy"));
  /** @type {Record<string, string>} */
  let errors = dict(model.get("errors"));
  /** @type {Map<string, string>} */
  const dismissedErrors = new Map();
  /** @type {{id: string, action: string} | null} */
  let confirming = null;
  /** @type {{mode: "create" | "update", id: string | null, opener: HTMLElement | null} | null} */
  let formState = null;
  let dismissedNoticeSeq = /** @type {any} */ (undefined);
  let retryAt = 0;
  let visibleCount = 0;
  let destroyed = false;
  /** @type {any} */ let searchTimer = null;
  /** @type {any} */ let noticeTimer = null;
  /** @type {any} */ let refreshTimer = null;
  /** @type {string[]} */ let announceQueue = [];
  let lastAnnounced = "";

  // ---------------------------------------------------------------- static DOM
  const root = e("div", { class: "pieces-mm", "data-lm-suppress-shortcuts": "true" });

  const connDot = e("span", { class: "pmm-conn-dot", "aria-hidden": "true" });
  const connLabel = e("span", { class: "pmm-conn-label" });
  const connUrl = e("span", { class: "pmm-conn-url pmm-mono" });
  const connVersion = e("span", { class: "pmm-conn-version" });
  const connEmulated = e("span", { class: "pmm-pill pmm-pill--emulated", text: "emulated", title: "This is the pieces-widgets emulator, not a real Pieces OS", hidden: true });
  const connBadge = e("span", { class: "pmm-conn", "data-connection": "connecting" }, connDot, connLabel, connUrl, connVersion, connEmulated);
  const updated = e("span", { class: "pmm-updated" });
  const summary = e("span", { class: "pmm-summary" });

  const searchInput = /** @type {HTMLInputElement} */ (
    e("input", { type: "search", class: "pmm-search", placeholder: "Search models", "aria-label": "Search models by name, tag, provider, foundation, quantization or description", autocomplete: "off", spellcheck: "false" })
  );
  searchInput.value = search;
  /** @type {Map<string, {btn: HTMLElement, count: HTMLElement}>} */
  const chips = new Map();
  const chipGroup = e("div", { class: "pmm-chips", role: "group", "aria-label": "Filter models" });
  for (const f of FILTERS) {
    const count = e("span", { class: "pmm-chip-count" });
    const btn = e("button", { type: "button", class: "pmm-chip", "data-filter": f.key, "aria-pressed": "false" }, e("span", { text: f.label }), count);
    chips.set(f.key, { btn, count });
    chipGroup.appendChild(btn);
  }
  const refreshBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "refresh", title: "Reload the model list from Pieces OS" }, "Refresh");
  const unloadAllBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "unload-all", title: "Unload every loaded model from memory", disabled: true }, "Unload all");
  const addBtn = e("button", { type: "button", class: "pmm-btn pmm-btn--primary", "data-action": "add-model" }, "Add model");

  const head = e("div", { class: "pmm-head" },
    e("div", { class: "pmm-titles" }, e("span", { class: "pmm-title", text: "Pieces OS models" }), summary),
    e("div", { class: "pmm-status" }, connBadge, updated));
  const toolbar = e("div", { class: "pmm-toolbar" },
    searchInput, chipGroup, e("span", { class: "pmm-spacer" }), refreshBtn, unloadAllBtn, addBtn);

  // Unreachable banner and connecting line.
  const bannerMessage = e("p", { class: "pmm-banner-message" });
  const bannerTried = e("p", { class: "pmm-banner-tried" });
  const retryText = e("span", { class: "pmm-retry-in" });
  const retryBtn = e("button", { type: "button", class: "pmm-btn pmm-btn--primary", "data-action": "retry" }, "Retry now");
  const connBanner = e("div", { class: "pmm-banner pmm-banner--error", "data-banner": "unreachable", hidden: true },
    e("p", { class: "pmm-banner-title", text: "Pieces OS is not reachable" }),
    bannerMessage,
    bannerTried,
    e("ol", { class: "pmm-steps" },
      e("li", null, "Start Pieces OS and wait until it has finished starting."),
      e("li", null, "Or run ", e("code", { text: "python -m pieces_widgets.emulator" }), " for a local emulator (demos, classes, tests)."),
      e("li", null, "Or set ", e("code", { text: "PIECES_OS_URL" }), " to the server's address, e.g. ", e("code", { text: "http://127.0.0.1:39300" }), ".")),
    e("div", { class: "pmm-banner-actions" }, retryBtn, retryText));
  const connectingLine = e("div", { class: "pmm-connecting", hidden: true },
    e("span", { class: "pmm-spinner", "aria-hidden": "true" }), e("span", { text: "Looking for Pieces OS…" }));

  const noticeText = e("span", { class: "pmm-notice-text" });
  const notice = e("div", { class: "pmm-banner pmm-notice", "data-level": "info", hidden: true }, noticeText,
    e("button", { type: "button", class: "pmm-icon-btn", "data-action": "dismiss-notice", "aria-label": "Dismiss message", title: "Dismiss" }, "×"));

  const form = buildForm(doc);

  // Table. Rows are CSS grids (not table layout) so that `content-visibility: auto` can skip
  // off-screen rows: explicit ARIA roles keep the table semantics.
  const headRow = e("tr", { role: "row" });
  /** @type {Map<string, HTMLElement>} */
  const ths = new Map();
  for (const c of COLUMNS) {
    const th = e("th", { scope: "col", role: "columnheader", "data-column": c.key, class: c.numeric ? "pmm-num" : null },
      e("button", { type: "button", class: "pmm-sort", title: `Sort by ${c.label}` },
        e("span", { text: c.label }), e("span", { class: "pmm-sort-ind", "aria-hidden": "true" })));
    ths.set(c.key, th);
    headRow.appendChild(th);
  }
  headRow.appendChild(e("th", { scope: "col", role: "columnheader", class: "pmm-th-actions", text: "Actions" }));
  const tbody = e("tbody", { role: "rowgroup" });
  const thead = e("thead", { role: "rowgroup" }, headRow);
  const table = e("table", { class: "pmm-table", role: "table", "aria-label": "Pieces OS models" }, thead, tbody);
  // Windowed (over WINDOW_MIN matching rows): these stand for the rows above / below the window.
  const spacerTop = e("tr", { class: "pmm-spacer", role: "presentation", "aria-hidden": "true" });
  const spacerBottom = /** @type {HTMLElement} */ (spacerTop.cloneNode(false));
  const emptyText = e("span", { class: "pmm-empty-text" });
  const clearBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "clear-filters" }, "Clear search and filter");
  const empty = e("div", { class: "pmm-empty", hidden: true }, emptyText, clearBtn);
  const scroller = e("div", { class: "pmm-scroll" }, table, empty);
  const live = e("div", { class: "pmm-sr", role: "status", "aria-live": "polite" });

  root.append(head, toolbar, connBanner, connectingLine, notice, form.form, scroller, live);

  // Row template, cloned per row (much cheaper than building each row from scratch).
  const rowTemplate = e("tr", { class: "pmm-row", role: "row" },
    e("td", { class: "pmm-c-name" },
      e("div", { class: "pmm-name-line" }, e("span", { class: "pmm-name" })),
      e("div", { class: "pmm-sub pmm-mono" })),
    e("td", { class: "pmm-c-provider" }, e("div", { class: "pmm-ellipsis" }), e("div", { class: "pmm-sub pmm-ellipsis" })),
    e("td", { class: "pmm-c-where" }),
    e("td", { class: "pmm-c-state" }, e("span", { class: "pmm-state" })),
    e("td", { class: "pmm-num" }),
    e("td", { class: "pmm-num" }),
    e("td", { class: "pmm-num" }),
    e("td", { class: "pmm-c-quant pmm-mono" }),
    e("td", { class: "pmm-num" }),
    e("td", { class: "pmm-c-actions" }, e("div", { class: "pmm-actions" })));
  for (const td of rowTemplate.children) td.setAttribute("role", "cell");
  const pillTemplate = e("span", { class: "pmm-pill pmm-pill--custom", text: "custom", title: "A custom model (can be edited and deleted)" });
  /** @type {Map<string, Node>} */
  const buttonTemplates = new Map();
  for (const [action, label] of Object.entries(ACTION_LABELS)) {
    const variant = action === "download" || action === "load" ? " pmm-btn--accent" : action === "delete" || action === "delete-cache" ? " pmm-btn--danger" : "";
    buttonTemplates.set(action, e("button", { type: "button", class: `pmm-btn pmm-btn--sm${variant}`, "data-action": action }, label));
  }

  // ---------------------------------------------------------------- rows
  /**
   * A model's record: its row dict, match and sort-key caches and, once the row has been shown,
   * its DOM (built lazily, at most once per model id, then reused). A record whose row is not in
   * the DOM is only marked `dirty` by updates and rendered when it is next shown.
   * @param {string} id
   */
  function createRec(id) {
    return {
      id,
      /** @type {Row} */ row: /** @type {any} */ (null),
      /** @type {HTMLElement} */ tr: /** @type {any} */ (null),
      /** @type {any} */ name: null,
      /** @type {HTMLElement | null} */ custom: null,
      /** @type {any} */ nameLine: null,
      /** @type {Row | null} */ titled: null,
      /** @type {any} */ unique: null,
      /** @type {any} */ provider: null,
      /** @type {any} */ foundation: null,
      /** @type {any} */ where: null,
      /** @type {any} */ stateTd: null,
      /** @type {any} */ state: null,
      /** @type {any} */ bytes: null,
      /** @type {any} */ ram: null,
      /** @type {any} */ params: null,
      /** @type {any} */ quant: null,
      /** @type {any} */ ctx: null,
      /** @type {any} */ actionsTd: null,
      /** @type {any} */ actions: null,
      /** @type {Map<string, HTMLElement>} */ buttons: new Map(),
      /** @type {HTMLElement | null} */ busyEl: null,
      /** @type {any} */ confirm: null,
      /** @type {any} */ error: null,
      /** @type {any} */ prog: null,
      /** @type {Record<string, any>} */ v: {},
      /** @type {string[] | null} */ haystack: null,
      /** sort key cache: column, raw value and key (null = missing) */
      /** @type {string | null} */ kc: null,
      /** @type {any} */ kr: null,
      /** @type {any} */ kv: null,
      match: true,
      actSig: "",
      progVisible: false,
      /** in tbody now */ mounted: false,
      /** the models snapshot that last listed it */ seen: 0,
      /** changed while not in the DOM: render it all when shown */ dirty: true,
      /** measured height in px (0: not measured yet) */ h: 0,
      /** aria-rowindex written (0: none) */ aria: 0,
      /** index among the matching rows (windowed) */ pos: 0,
      gen: 0,
    };
  }

  /** Build a record's row from the template (once per model id). @param {any} rec */
  function buildRow(rec) {
    const tr = /** @type {HTMLElement} */ (rowTemplate.cloneNode(true));
    tr.setAttribute("data-model-id", rec.id);
    const c0 = /** @type {any} */ (tr.firstChild);
    const c1 = c0.nextSibling;
    const c2 = c1.nextSibling;
    const c3 = c2.nextSibling;
    const c4 = c3.nextSibling;
    const c5 = c4.nextSibling;
    const c6 = c5.nextSibling;
    const c7 = c6.nextSibling;
    const c8 = c7.nextSibling;
    const c9 = c8.nextSibling;
    rec.tr = tr;
    rec.nameLine = c0.firstChild;
    rec.name = c0.firstChild.firstChild;
    rec.unique = c0.lastChild;
    rec.provider = c1.firstChild;
    rec.foundation = c1.lastChild;
    rec.where = c2;
    rec.stateTd = c3;
    rec.state = c3.firstChild;
    rec.bytes = c4;
    rec.ram = c5;
    rec.params = c6;
    rec.quant = c7;
    rec.ctx = c8;
    rec.actionsTd = c9;
    rec.actions = c9.firstChild;
    rec.dirty = true;
  }

  /** Render every part of a row (after building it, or when it was changed while not shown). */
  function renderRow(rec) {
    rec.dirty = false;
    renderCells(rec, rec.row);
    renderState(rec);
    renderActions(rec);
  }

  /** The actions cell of a row now if it is in the DOM, else when it is next shown. */
  function refreshActions(rec) {
    if (rec.mounted) renderActions(rec);
    else rec.dirty = true;
  }

  /** @param {any} rec */
  function displayName(rec) {
    const r = rec.row;
    return str(r.name) || str(r.unique) || rec.id;
  }

  /** Update the data cells of a row from its (new) row dict; writes only what changed. */
  function renderCells(rec, row) {
    const v = rec.v;
    const name = str(row.name) || str(row.unique) || rec.id;
    if (v.name !== name) {
      v.name = name;
      rec.name.textContent = name;
      rec.name.setAttribute("title", name);
    }
    const unique = str(row.unique);
    if (v.unique !== unique) {
      v.unique = unique;
      rec.unique.textContent = unique;
    }
    const custom = Boolean(row.custom);
    if (v.custom !== custom) {
      v.custom = custom;
      if (custom && !rec.custom) {
        rec.custom = pillTemplate.cloneNode(true);
        rec.nameLine.appendChild(rec.custom);
      } else if (!custom && rec.custom) {
        rec.custom.remove();
        rec.custom = null;
      }
      setAttr(rec.tr, "data-custom", custom ? "true" : null);
    }
    const provider = str(row.provider);
    if (v.provider !== provider) {
      v.provider = provider;
      rec.provider.textContent = provider || "—";
      setAttr(rec.provider, "data-missing", provider ? null : "true");
    }
    const foundation = str(row.foundation);
    if (v.foundation !== foundation) {
      v.foundation = foundation;
      rec.foundation.textContent = foundation;
    }
    const where = row.cloud === null || row.cloud === undefined ? "" : row.cloud ? "cloud" : "local";
    if (v.where !== where) {
      v.where = where;
      rec.where.textContent = where;
      setAttr(rec.where, "data-where", where || null);
    }
    numCell(rec, "bytes", rec.bytes, row.bytes, formatBytes);
    numCell(rec, "ram", rec.ram, row.ram, formatBytes);
    numCell(rec, "params", rec.params, row.parameters, formatParameters);
    numCell(rec, "ctx", rec.ctx, row.max_tokens, formatTokens);
    const quant = str(row.quantization);
    if (v.quant !== quant) {
      v.quant = quant;
      rec.quant.textContent = quant;
    }
  }

  /**
   * @param {any} rec @param {string} key @param {HTMLElement} cell @param {unknown} raw
   * @param {(n: number) => string} fmt
   */
  function numCell(rec, key, cell, raw, fmt) {
    const value = isNum(raw) ? raw : typeof raw === "string" ? raw : null;
    if (rec.v[key] === value) return;
    rec.v[key] = value;
    cell.textContent = typeof value === "number" ? fmt(value) : str(value);
  }

  /**
   * Tooltips with exact values (bytes, tokens) and untruncated texts, set lazily when the
   * pointer first enters a row (cheaper than setting ~8 attributes on every row up front).
   * @param {any} rec
   */
  function renderTitles(rec) {
    if (rec.titled === rec.row) return;
    rec.titled = rec.row;
    const r = rec.row;
    /** @param {Element} node @param {string} text */
    const t = (node, text) => setAttr(node, "title", text || null);
    t(rec.unique, str(r.unique));
    t(rec.provider, str(r.provider) || "No provider reported");
    t(rec.foundation, str(r.foundation));
    t(rec.bytes, isNum(r.bytes) ? `${formatInteger(r.bytes)} bytes on disk` : "");
    t(rec.ram, isNum(r.ram) ? `about ${formatInteger(r.ram)} bytes of RAM when loaded` : "");
    t(rec.params, isNum(r.parameters) ? `${r.parameters} billion parameters` : "");
    t(rec.ctx, isNum(r.max_tokens) ? `${formatInteger(r.max_tokens)} tokens of context` : "");
    t(rec.quant, str(r.quantization));
  }

  /** Does this row show a progress bar now? */
  function progressShown(rec) {
    const p = progress[rec.id];
    return rec.row.state === "downloading" || Boolean(p && !isTerminal(p));
  }

  /** State cell: the state text, and the progress block while downloading. */
  function renderState(rec) {
    const row = rec.row;
    const p = progress[rec.id];
    const show = progressShown(rec);
    const view = show ? progressView(p, row.bytes) : null;
    setText(rec.state, stateText(row.state, view));
    const dataState = view ? "downloading" : KNOWN_STATES.has(str(row.state)) ? str(row.state) : "other";
    setAttr(rec.state, "data-state", dataState);
    if (view) {
      if (!rec.prog) rec.prog = buildProgress(rec);
      const pg = rec.prog;
      setAttr(pg.bar, "aria-label", `Download progress of ${displayName(rec)}`);
      setAttr(pg.bar, "aria-valuenow", String(view.valuenow));
      setAttr(pg.bar, "aria-valuetext", view.valuetext);
      const scale = `scaleX(${(view.percent / 100).toFixed(4)})`;
      if (pg.fill.style.transform !== scale) pg.fill.style.transform = scale;
      setAttr(pg.wrap, "data-known", view.known ? null : "false");
      setText(pg.bytes, view.bytes);
      setText(pg.rate, [view.speed, view.eta ? `${view.eta} left` : ""].filter(Boolean).join(" · "));
      if (pg.stalled.hidden === view.stalled) pg.stalled.hidden = !view.stalled;
      setAttr(pg.wrap, "data-stalled", view.stalled ? "true" : null);
    } else if (rec.prog) {
      rec.prog.wrap.remove();
      rec.prog = null;
    }
    if (rec.progVisible !== show) {
      rec.progVisible = show;
      return true; // the actions cell depends on it (busy label)
    }
    return false;
  }

  function buildProgress(rec) {
    const fill = e("div", { class: "pmm-fill" });
    const bar = e("div", { class: "pmm-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
    const bytes = e("span", { class: "pmm-prog-bytes" });
    const rate = e("span", { class: "pmm-prog-rate" });
    const stalled = e("span", { class: "pmm-pill pmm-pill--stalled", text: "stalled", title: "No progress arrived for a while", hidden: true });
    const wrap = e("div", { class: "pmm-prog" }, bar, e("div", { class: "pmm-prog-line" }, bytes), e("div", { class: "pmm-prog-line" }, rate, stalled));
    rec.stateTd.appendChild(wrap);
    return { wrap, bar, fill, bytes, rate, stalled };
  }

  /** Actions cell: buttons by state and busy, the inline confirmation, the row's error. */
  function renderActions(rec) {
    const row = rec.row;
    const b = busy[rec.id] ? str(busy[rec.id]) : "";
    const err = errors[rec.id] ? str(errors[rec.id]) : "";
    const acts = actionsFor(row, b || null);
    // A pending confirmation lapses when its action is no longer offered (state changed, busy).
    if (confirming && confirming.id === rec.id && (!acts.includes(confirming.action) || !actionEnabled(confirming.action, b || null))) {
      confirming = null;
    }
    const conf = confirming && confirming.id === rec.id ? confirming.action : "";
    const errShown = err && dismissedErrors.get(rec.id) !== err ? err : "";
    const showBusy = Boolean(b) && !(CANCELLABLE_BUSY.has(b) && rec.progVisible);
    const name = displayName(rec);
    const sig = `${acts.join(",")}|${b}|${showBusy}|${conf}|${errShown}|${name}|${rec.v.bytes}`;
    if (sig === rec.actSig) return;
    rec.actSig = sig;
    const active = doc.activeElement;
    let lostFocus = false;

    // Buttons, reused by action so focus survives updates.
    for (const [action, btn] of rec.buttons) {
      if (!acts.includes(action)) {
        if (btn === active) lostFocus = true;
        btn.remove();
        rec.buttons.delete(action);
      }
    }
    let prev = null;
    for (const action of acts) {
      let btn = rec.buttons.get(action);
      if (!btn) {
        const proto = buttonTemplates.get(action);
        btn = /** @type {HTMLElement} */ (proto ? proto.cloneNode(true) : e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": action }, action));
        rec.buttons.set(action, btn);
      }
      setAttr(btn, "aria-label", `${ACTION_LABELS[/** @type {keyof typeof ACTION_LABELS} */ (action)] || action} ${name}`);
      const disabled = !actionEnabled(action, b || null);
      if (/** @type {HTMLButtonElement} */ (btn).disabled !== disabled) {
        /** @type {HTMLButtonElement} */ (btn).disabled = disabled;
        if (disabled && btn === active) lostFocus = true;
      }
      const want = prev ? prev.nextSibling : rec.actions.firstChild;
      if (want !== btn) rec.actions.insertBefore(btn, want);
      prev = btn;
    }
    // Busy label.
    if (showBusy) {
      if (!rec.busyEl) rec.busyEl = e("span", { class: "pmm-busy" }, e("span", { class: "pmm-spinner", "aria-hidden": "true" }), e("span", null));
      setText(/** @type {Node} */ (rec.busyEl.lastChild), busyLabel(b));
      rec.actions.appendChild(rec.busyEl);
    } else if (rec.busyEl) {
      rec.busyEl.remove();
      rec.busyEl = null;
    }
    setAttr(rec.tr, "data-busy", b || null);
    if (rec.actions.hidden !== Boolean(conf)) rec.actions.hidden = Boolean(conf);

    // Inline confirmation.
    if (conf) {
      if (!rec.confirm) {
        const text = e("span", { class: "pmm-confirm-text" });
        const yes = e("button", { type: "button", class: "pmm-btn pmm-btn--sm pmm-btn--danger-solid", "data-action": "confirm" }, "Confirm");
        const no = e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "dismiss-confirm" }, "Cancel");
        const box = e("div", { class: "pmm-confirm", role: "group" }, text, e("div", { class: "pmm-confirm-buttons" }, yes, no));
        rec.confirm = { box, text, yes, no };
        rec.actionsTd.insertBefore(box, rec.actions.nextSibling);
      }
      const size = isNum(row.bytes) ? formatBytes(row.bytes) : "";
      setText(rec.confirm.text, confirmText(conf, row, size));
      setAttr(rec.confirm.box, "aria-label", conf === "delete" ? "Confirm delete" : "Confirm delete cache");
      setAttr(rec.confirm.box, "data-confirm", conf);
      setAttr(rec.confirm.yes, "aria-label", `Confirm: ${conf === "delete" ? "delete" : "delete cache of"} ${name}`);
      if (lostFocus || rec.actionsTd.contains(active)) rec.confirm.no.focus();
      lostFocus = false;
    } else if (rec.confirm) {
      const hadFocus = rec.confirm.box.contains(doc.activeElement);
      rec.confirm.box.remove();
      rec.confirm = null;
      if (hadFocus) lostFocus = true;
    }

    // Per-row error.
    if (errShown) {
      if (!rec.error) {
        const text = e("span", { class: "pmm-row-error-text" });
        const dismiss = e("button", { type: "button", class: "pmm-icon-btn", "data-action": "dismiss-error", "aria-label": "Dismiss error", title: "Dismiss" }, "×");
        const box = e("div", { class: "pmm-row-error" }, text, dismiss);
        rec.error = { box, text };
        rec.actionsTd.appendChild(box);
      }
      setText(rec.error.text, errShown);
      setAttr(rec.error.text, "title", errShown);
    } else if (rec.error) {
      if (rec.error.box.contains(doc.activeElement)) lostFocus = true;
      rec.error.box.remove();
      rec.error = null;
    }
    setAttr(rec.tr, "data-error", errShown ? "true" : null);

    if (lostFocus && !destroyed) {
      const target = [...rec.buttons.values()].find((btn) => !(/** @type {HTMLButtonElement} */ (btn).disabled));
      if (target) target.focus();
      else {
        rec.actionsTd.setAttribute("tabindex", "-1");
        rec.actionsTd.focus();
      }
    }
  }

  // ---------------------------------------------------------------- row list
  // Up to WINDOW_MIN models every row is in tbody, in display order, filtered-out rows `hidden`.
  // Above that only matching rows are: all of them while at most WINDOW_MIN match, else only
  // those in and near the scroll viewport (a window, plus overscan) between two spacer rows
  // whose heights stand for the rows not shown (measured heights, an estimate for the others).
  // The window follows scrolling (once per animation frame), sorting, searching and snapshots.

  /** @param {any} rec */
  function computeMatch(rec) {
    if (!matchesFilter(rec.row, filter)) return false;
    if (terms.length === 0) return true;
    if (!rec.haystack) rec.haystack = searchText(rec.row);
    return matchesSearch(rec.haystack, terms);
  }

  /** Recompute every row's match (filter or search changed) and show the result. */
  function applyAllMatches() {
    let count = 0;
    for (const rec of serverRecs) {
      rec.match = computeMatch(rec);
      if (rec.match) count += 1;
    }
    visibleCount = count;
    syncRows();
    renderCounts();
  }

  /** Every record in display order: sorted on raw values (keys cached per row), else server order. */
  function displayOrder() {
    if (sortedRecs) return sortedRecs;
    const column = sort.column;
    if (!column) return (sortedRecs = serverRecs);
    sortedRecs = sortByKey(serverRecs, (rec) => {
      const raw = /** @type {any} */ (rec.row)[column];
      if (rec.kc !== column || rec.kr !== raw) {
        rec.kc = column;
        rec.kr = raw;
        rec.kv = rowSortKey(rec.row, column);
      }
      return rec.kv;
    }, sort.descending);
    return sortedRecs;
  }

  /** Sort changed: reorder the rows. */
  function applyOrder() {
    sortedRecs = null;
    syncRows();
  }

  /** The record whose row holds keyboard focus, if any. */
  function focusedRec() {
    const active = /** @type {any} */ (doc.activeElement);
    if (!active || active === doc.body || !tbody.contains(active)) return null;
    const tr = active.closest("tr[data-model-id]");
    return tr ? recs.get(tr.getAttribute("data-model-id")) || null : null;
  }

  /**
   * Put the right rows into tbody (see above).
   * @param {boolean} [scrolled] only the scroll position (or row heights) changed
   * @param {boolean} [mayKeep] keep the window while it still covers the viewport
   */
  function syncRows(scrolled = false, mayKeep = scrolled) {
    const list = displayOrder();
    if (list.length <= WINDOW_MIN) {
      shown = list;
      patchRows(list, false, 0, 0);
      return;
    }
    if (!scrolled) shown = list.filter((rec) => rec.match);
    if (shown.length <= WINDOW_MIN) {
      patchRows(shown, false, 0, 0);
      return;
    }
    const n = shown.length;
    const est = rowEstimate;
    let total = 0;
    for (let i = 0; i < n; i++) total += shown[i].h || est;
    // The viewport in tbody coordinates, as of the last frame (reading the scroller's geometry
    // here would force a layout mid-update); the browser clamps scrollTop when the content shrank.
    const vh = viewHeight || VIEWPORT_FALLBACK;
    const top = Math.min(viewTop, Math.max(0, total + headHeight - vh)) - headHeight;
    const bottom = top + vh;
    // Rows [start, end) cover [top - overscan, bottom + overscan]; topPx is where `start` begins.
    let start = -1;
    let end = n;
    let topPx = 0;
    let endPx = total;
    let keep = mayKeep && windowed && winEnd <= n && winStart < winEnd;
    let y = 0;
    for (let i = 0; i < n; i++) {
      if (keep) {
        if (i === winStart) topPx = y;
        if (i === winEnd) {
          endPx = y;
          break;
        }
      } else {
        if (start < 0 && y + (shown[i].h || est) > top - OVERSCAN_PX) {
          start = i;
          topPx = y;
        }
        if (start >= 0 && i > start && y >= bottom + OVERSCAN_PX) {
          end = i;
          endPx = y;
          break;
        }
      }
      y += shown[i].h || est;
    }
    if (keep) {
      // Keep the window while it covers the viewport with half the overscan to spare.
      keep = topPx <= Math.max(0, top - OVERSCAN_PX / 2) && endPx >= Math.min(total, bottom + OVERSCAN_PX / 2);
      if (keep) {
        start = winStart;
        end = winEnd;
      } else return syncRows(true, false);
    }
    if (start < 0) {
      start = n - 1;
      topPx = total - (shown[start].h || est);
    }
    let bottomPx = total - endPx;
    winStart = start;
    winEnd = end;
    for (let i = start; i < end; i++) shown[i].pos = i;
    let rows = shown.slice(start, end);
    // A focused row stays in the DOM (just outside the window, the spacer shortened to match)
    // so that scrolling or sorting never destroys the button holding keyboard focus.
    const focused = focusedRec();
    if (focused && focused.match && focused.mounted) {
      const at = shown.indexOf(focused);
      if (at >= 0 && (at < start || at >= end)) {
        focused.pos = at;
        const h = focused.h || est;
        if (at < start) {
          rows.unshift(focused);
          topPx = Math.max(0, topPx - h);
        } else {
          rows.push(focused);
          bottomPx = Math.max(0, bottomPx - h);
        }
      }
    }
    patchRows(rows, true, topPx, bottomPx);
  }

  /**
   * Make tbody hold exactly `list` (in order), moving only rows that are out of place.
   * @param {any[]} list @param {boolean} win windowed @param {number} topPx @param {number} bottomPx
   */
  function patchRows(list, win, topPx, bottomPx) {
    if (list === mountedList && !win && !windowed) {
      // The same rows in the same order (a search or filter change in a small catalogue).
      for (const rec of list) {
        if (rec.dirty) renderRow(rec);
        const hide = !rec.match;
        if (rec.tr.hidden !== hide) rec.tr.hidden = hide;
      }
      return;
    }
    const active = /** @type {HTMLElement | null} */ (doc.activeElement);
    const hadFocus = Boolean(active && active !== doc.body && tbody.contains(active));
    const g = ++gen;
    for (const rec of list) rec.gen = g;
    // Many rows to insert, move or remove (a sort, a big filter change, the first render): one
    // bulk replace of tbody's children costs far less than changing them one by one.
    const old = mountedList;
    let misplaced = 0;
    let j = 0;
    for (const rec of old) if (rec.gen !== g) misplaced += 1;
    for (let i = 0; i < list.length && misplaced <= BULK_MOVES; i++) {
      while (j < old.length && old[j].gen !== g) j += 1;
      if (j < old.length && old[j] === list[i]) j += 1;
      else misplaced += 1;
    }
    const bulk = misplaced > BULK_MOVES;
    for (const rec of old) {
      if (rec.gen !== g && rec.mounted) {
        if (!bulk) rec.tr.remove();
        rec.mounted = false;
      }
    }
    if (windowed !== win) {
      windowed = win;
      setAttr(table, "data-windowed", win ? "true" : null);
      setAttr(headRow, "aria-rowindex", win ? "1" : null);
    }
    setAttr(table, "aria-rowcount", win ? String(shown.length + 1) : null);
    setSpacer(spacerTop, win ? topPx : 0);
    setSpacer(spacerBottom, win ? bottomPx : 0);
    let fresh = false;
    for (const rec of list) {
      if (!rec.tr) buildRow(rec);
      if (rec.dirty) renderRow(rec);
      if (!rec.mounted) {
        rec.mounted = true;
        fresh = true;
      }
      const tr = rec.tr;
      const hide = !rec.match;
      if (tr.hidden !== hide) tr.hidden = hide;
      const aria = win ? rec.pos + 2 : 0;
      if (rec.aria !== aria) {
        rec.aria = aria;
        setAttr(tr, "aria-rowindex", aria ? String(aria) : null);
      }
    }
    if (bulk) {
      const nodes = list.map((rec) => rec.tr);
      if (win && topPx > 0) nodes.unshift(spacerTop);
      if (win && bottomPx > 0) nodes.push(spacerBottom);
      tbody.replaceChildren(...nodes);
    } else {
      if (spacerTop.parentNode && tbody.firstChild !== spacerTop) tbody.insertBefore(spacerTop, tbody.firstChild);
      let cursor = spacerTop.parentNode ? spacerTop.nextSibling : tbody.firstChild;
      for (const rec of list) {
        const tr = rec.tr;
        if (tr === cursor) cursor = tr.nextSibling;
        else tbody.insertBefore(tr, cursor);
      }
      if (spacerBottom.parentNode && tbody.lastChild !== spacerBottom) tbody.appendChild(spacerBottom);
    }
    mountedList = list;
    // Moving a row drops focus from a button inside it: put it back.
    if (hadFocus && active && active.isConnected && doc.activeElement !== active) active.focus({ preventScroll: true });
    if (win && fresh) scheduleFrame();
  }

  /** @param {HTMLElement} spacer @param {number} px (0 takes it out of the DOM; patchRows puts it in) */
  function setSpacer(spacer, px) {
    if (px <= 0) {
      if (spacer.parentNode) spacer.remove();
      return;
    }
    const height = `${Math.round(px)}px`;
    if (spacer.style.height !== height) spacer.style.height = height;
    if (!spacer.parentNode) tbody.appendChild(spacer);
  }

  function scheduleFrame() {
    if (frameId === null && !destroyed) frameId = raf(onFrame);
  }

  /** Once per frame while windowed: measure the rows in the DOM, then move the window if needed. */
  function onFrame() {
    frameId = null;
    if (destroyed || !windowed) return;
    const hh = thead.offsetHeight;
    if (hh > 0) headHeight = hh;
    viewTop = scroller.scrollTop;
    viewHeight = scroller.clientHeight;
    /** @type {number[]} */
    const hs = [];
    for (const rec of mountedList) {
      // Rows off-screen have their contents skipped (content-visibility: auto) and report a
      // placeholder height: keep what was measured before (or the estimate).
      const cell = /** @type {any} */ (rec.tr.firstElementChild);
      if (cell && typeof cell.checkVisibility === "function" && !cell.checkVisibility({ contentVisibilityAuto: true })) continue;
      const h = rec.tr.offsetHeight;
      if (h > 0) {
        rec.h = h;
        hs.push(h);
      }
    }
    if (hs.length) {
      hs.sort((a, b) => a - b);
      rowEstimate = hs[hs.length >> 1];
    }
    syncRows(true);
  }

  function onScroll() {
    viewTop = scroller.scrollTop;
    if (windowed) scheduleFrame();
  }

  function onResize() {
    viewHeight = scroller.clientHeight;
    if (windowed) scheduleFrame();
  }

  // ---------------------------------------------------------------- trait handlers
  function onModels() {
    const incoming = Array.isArray(model.get("models")) ? model.get("models") : [];
    const stamp = ++modelsSeq;
    /** @type {Row[]} */
    const next = [];
    /** @type {any[]} */
    const list = [];
    const column = sort.column;
    let changed = false;
    let count = 0;
    for (const r of incoming) {
      if (!r || typeof r !== "object" || r.id === null || r.id === undefined) continue;
      const id = String(r.id);
      let rec = recs.get(id);
      if (rec && rec.seen === stamp) continue; // a duplicate id: the first one wins
      if (!rec) {
        rec = createRec(id);
        recs.set(id, rec);
      }
      rec.seen = stamp;
      const row = r.id === id ? r : { ...r, id };
      const old = rec.row;
      if (old !== row) {
        rec.row = row;
        rec.haystack = null;
        if (rec.mounted) renderRow(rec);
        else rec.dirty = true;
        const match = computeMatch(rec);
        // A new snapshot brings new row objects: only a changed sort value or match moves rows.
        if (match !== rec.match || !old || (column && /** @type {any} */ (old)[column] !== /** @type {any} */ (row)[column])) changed = true;
        rec.match = match;
      }
      if (serverRecs[list.length] !== rec) changed = true;
      if (rec.match) count += 1;
      next.push(row);
      list.push(rec);
    }
    if (list.length !== serverRecs.length) changed = true;
    // Remove rows that are gone.
    if (recs.size > list.length) {
      for (const [id, rec] of recs) {
        if (rec.seen !== stamp) {
          if (rec.mounted) rec.tr.remove();
          rec.mounted = false;
          recs.delete(id);
          dismissedErrors.delete(id);
          if (confirming && confirming.id === id) confirming = null;
          changed = true;
        }
      }
    }
    rows = next;
    serverRecs = list;
    visibleCount = count;
    if (changed) {
      sortedRecs = null;
      syncRows();
    }
    renderCounts();
    renderToolbar();
  }

  function onProgress() {
    const next = dict(model.get("progress"));
    const before = progress;
    progress = next;
    for (const id of changedProgressIds(before, next)) {
      const rec = recs.get(id);
      if (!rec) continue;
      if (!rec.mounted) rec.dirty = true; // not in the DOM: nothing to touch now
      else if (renderState(rec)) renderActions(rec);
      const msg = terminalAnnouncement(before[id], next[id], displayName(rec));
      if (msg) announce(msg);
    }
  }

  function onBusy() {
    const next = dict(model.get("busy"));
    const keys = changedKeys(busy, next);
    busy = next;
    for (const id of keys) {
      const rec = recs.get(id);
      if (rec) refreshActions(rec);
    }
  }

  function onErrors() {
    const next = dict(model.get("errors"));
    const keys = changedKeys(errors, next);
    errors = next;
    for (const id of keys) {
      const rec = recs.get(id);
      if (!rec) continue;
      const err = str(next[id]);
      if (err) {
        dismissedErrors.delete(id);
        announce(`${displayName(rec)}: ${err}`);
      }
      refreshActions(rec);
    }
  }

  function onSort() {
    const s = normalizeSort(model.get("sort"));
    if (s.column === sort.column && s.descending === sort.descending) return;
    sort = s;
    renderSortHeaders();
    applyOrder();
  }

  function onFilter() {
    const f = normalizeFilter(model.get("filter"));
    if (f === filter) return;
    filter = f;
    renderChips();
    applyAllMatches();
  }

  function onSearch() {
    const s = str(model.get("search"));
    if (s === search || searchTimer !== null) return; // ignore while the user is typing
    search = s;
    terms = searchTerms(s);
    if (searchInput.value !== s) searchInput.value = s;
    applyAllMatches();
  }

  function onConnection() {
    const conn = str(model.get("connection")) || "connecting";
    const server = dict(model.get("server"));
    setAttr(connBadge, "data-connection", conn);
    setText(connLabel, conn === "connected" ? "Connected" : conn === "unreachable" ? "Unreachable" : conn === "connecting" ? "Connecting…" : conn);
    const url = str(server.url);
    setText(connUrl, conn === "connected" ? url : "");
    setAttr(connBadge, "title", url ? `Pieces OS at ${url}` : null);
    setText(connVersion, conn === "connected" && server.version ? `v${str(server.version).replace(/^v/i, "")}` : "");
    connEmulated.hidden = !server.emulated;
    root.setAttribute("data-state", conn);

    const unreachable = conn === "unreachable";
    connBanner.hidden = !unreachable;
    if (unreachable) {
      setText(bannerMessage, str(server.message) || "No Pieces OS server answered.");
      const tried = Array.isArray(server.tried) ? server.tried.map(str).filter(Boolean) : [];
      const shown = tried.length > 6 ? `${tried.slice(0, 4).join(", ")} … and ${tried.length - 4} more` : tried.join(", ");
      setText(bannerTried, tried.length ? `Tried ${shown}` : "");
      bannerTried.hidden = tried.length === 0;
      setAttr(bannerTried, "title", tried.length ? tried.join("\n") : null);
      retryAt = isNum(server.retry_at) && server.retry_at > 0
        ? server.retry_at * 1000
        : isNum(server.retry_in) && server.retry_in > 0 ? now() + server.retry_in * 1000 : 0;
    }
    connectingLine.hidden = !(conn === "connecting" && rows.length === 0);
    if (conn !== "connecting") clearRefreshPending();
    renderCounts();
    tick();
  }
  let lastConn = str(model.get("connection"));
  function onConnectionChange() {
    const conn = str(model.get("connection"));
    if (conn !== lastConn) {
      if (conn === "unreachable") announce("Pieces OS is not reachable.");
      else if (conn === "connected" && lastConn === "unreachable") announce("Connected to Pieces OS.");
      lastConn = conn;
    }
    onConnection();
  }

  function onLastRefresh() {
    clearRefreshPending();
    tick();
  }

  function onNotice() {
    const n = dict(model.get("notice"));
    const text = str(n.text);
    if (noticeTimer !== null) {
      clearT(noticeTimer);
      noticeTimer = null;
    }
    const show = Boolean(text) && n.seq !== dismissedNoticeSeq;
    notice.hidden = !show;
    if (!show) return;
    const level = n.level === "error" ? "error" : "info";
    setAttr(notice, "data-level", level);
    setText(noticeText, text);
    announce(text);
    if (level === "info" && infoNoticeMs > 0) {
      noticeTimer = setT(() => {
        noticeTimer = null;
        notice.hidden = true;
      }, infoNoticeMs);
    }
  }

  // ---------------------------------------------------------------- toolbar
  function renderSortHeaders() {
    for (const [key, th] of ths) {
      setAttr(th, "aria-sort", sort.column === key ? (sort.descending ? "descending" : "ascending") : null);
    }
  }

  function renderChips() {
    for (const [key, chip] of chips) setAttr(chip.btn, "aria-pressed", key === filter ? "true" : "false");
  }

  function renderToolbar() {
    const counts = filterCounts(rows);
    const loaded = counts.loaded;
    /** @type {HTMLButtonElement} */ (unloadAllBtn).disabled = loaded === 0;
    setAttr(unloadAllBtn, "title", loaded ? `Unload ${loaded} loaded model${loaded === 1 ? "" : "s"} from memory` : "Nothing is loaded");
    for (const [key, chip] of chips) setText(chip.count, String(counts[key]));
    setText(summary, rows.length ? summaryText(rows) : "");
  }

  function renderCounts() {
    const conn = str(model.get("connection"));
    const filtered = filter !== "all" || terms.length > 0;
    const noRows = visibleCount === 0;
    empty.hidden = !noRows || (rows.length === 0 && conn !== "connected");
    if (noRows) {
      if (rows.length === 0) setText(emptyText, "Pieces OS reports no models.");
      else if (terms.length) setText(emptyText, `No models match “${search.trim()}”${filter !== "all" ? ` in ${filter}` : ""}.`);
      else setText(emptyText, `No ${filter} models.`);
      clearBtn.hidden = !(filtered && rows.length > 0);
    }
    connectingLine.hidden = !(conn === "connecting" && rows.length === 0);
    scroller.hidden = rows.length === 0 && conn !== "connected";
    table.setAttribute("data-visible", String(visibleCount));
  }

  /** The 1 s timer: touches only the "updated N s ago" and retry countdown texts. */
  function tick() {
    if (destroyed) return;
    const t = now();
    setText(updated, rows.length || model.get("last_refresh") ? formatUpdated(model.get("last_refresh"), t) : "");
    if (!connBanner.hidden) {
      const left = retryAt ? Math.max(0, Math.ceil((retryAt - t) / 1000)) : 0;
      setText(retryText, retryAt ? (left > 0 ? `Retrying automatically in ${left} s` : "Retrying…") : "");
    }
  }

  function clearRefreshPending() {
    if (refreshTimer !== null) {
      clearT(refreshTimer);
      refreshTimer = null;
    }
    setAttr(refreshBtn, "aria-busy", null);
  }

  // ---------------------------------------------------------------- live region
  /** Queue a polite announcement (finished downloads, errors, connection changes). */
  function announce(text) {
    if (!text) return;
    announceQueue.push(text);
    if (announceQueue.length === 1) {
      queueMicrotask(() => {
        if (destroyed) return;
        const msg = [...new Set(announceQueue)].join(" ");
        announceQueue = [];
        if (msg === lastAnnounced) live.textContent = "";
        lastAnnounced = msg;
        live.textContent = msg;
      });
    }
  }

  // ---------------------------------------------------------------- commands
  /** @param {string} action @param {Record<string, any>} [extra] */
  function send(action, extra) {
    model.send({ type: "action", action, ...extra });
  }

  /** @param {string} key @param {any} value */
  function writeTrait(key, value) {
    try {
      model.set(key, value);
      model.save_changes();
    } catch (err) {
      // A closed comm (kernel gone) must not break the UI: the local view still works.
      console.warn("pieces-widgets: could not sync", key, err);
    }
  }

  function flushSearch() {
    if (searchTimer !== null) {
      clearT(searchTimer);
      searchTimer = null;
    }
    if (str(model.get("search")) !== search) writeTrait("search", search);
  }

  function openForm(mode, id, opener) {
    const row = id ? recs.get(id)?.row : null;
    formState = { mode, id: id || null, opener };
    fillForm(form.inputs, mode === "update" ? row : null);
    setText(form.title, mode === "update" ? `Edit “${row ? displayName(recs.get(id)) : id}”` : "Add a custom model");
    setText(form.submit, mode === "update" ? "Save changes" : "Add model");
    form.error.hidden = true;
    form.form.hidden = false;
    /** @type {HTMLElement} */ (form.inputs.name).focus();
  }

  function closeForm() {
    if (!formState) return;
    const opener = formState.opener;
    formState = null;
    form.form.hidden = true;
    if (opener && opener.isConnected && !(/** @type {HTMLButtonElement} */ (opener).disabled)) opener.focus();
  }

  function submitForm() {
    if (!formState) return;
    const original = formState.mode === "update" && formState.id ? recs.get(formState.id)?.row || null : null;
    const { fields, errors: errs } = collectFields(readForm(form.inputs), formState.mode === "update" ? original || {} : null);
    const keys = Object.keys(errs);
    if (keys.length) {
      form.error.textContent = Object.values(errs).join(" ");
      form.error.hidden = false;
      /** @type {HTMLElement} */ (form.inputs[keys[0]]).focus();
      return;
    }
    if (formState.mode === "update") {
      if (Object.keys(fields).length) send("update", { id: formState.id, fields });
    } else {
      send("create", { fields });
    }
    closeForm();
  }

  // ---------------------------------------------------------------- DOM events
  /** @param {MouseEvent} ev */
  function onClick(ev) {
    const target = /** @type {any} */ (ev.target);
    if (!target || typeof target.closest !== "function") return;
    const btn = target.closest("button");
    if (!btn || !root.contains(btn) || btn.disabled) return;
    const filterKey = btn.getAttribute("data-filter");
    if (filterKey) {
      if (filterKey !== filter) {
        filter = normalizeFilter(filterKey);
        renderChips();
        applyAllMatches();
        writeTrait("filter", filter);
      }
      return;
    }
    const th = btn.closest("th[data-column]");
    if (th) {
      sort = nextSort(sort, th.getAttribute("data-column"));
      renderSortHeaders();
      applyOrder();
      writeTrait("sort", { column: sort.column, descending: sort.descending });
      return;
    }
    const action = btn.getAttribute("data-action");
    if (!action) return;
    const tr = btn.closest("tr[data-model-id]");
    const id = tr ? tr.getAttribute("data-model-id") : null;
    const rec = id ? recs.get(id) : null;
    switch (action) {
      case "refresh":
        setAttr(refreshBtn, "aria-busy", "true");
        if (refreshTimer !== null) clearT(refreshTimer);
        refreshTimer = setT(clearRefreshPending, 5000);
        send("refresh");
        return;
      case "retry":
        send("retry");
        return;
      case "unload-all":
        send("unload-all");
        return;
      case "add-model":
        openForm("create", null, btn);
        return;
      case "close-form":
        closeForm();
        return;
      case "submit-form":
        return; // handled by the form's submit event
      case "dismiss-notice":
        dismissedNoticeSeq = dict(model.get("notice")).seq;
        notice.hidden = true;
        return;
      case "clear-filters":
        search = "";
        terms = [];
        searchInput.value = "";
        filter = "all";
        renderChips();
        applyAllMatches();
        writeTrait("filter", filter);
        flushSearch();
        searchInput.focus();
        return;
      default:
        break;
    }
    if (!rec || !id) return;
    switch (action) {
      case "confirm": {
        const pending = confirming && confirming.id === id ? confirming.action : null;
        confirming = null;
        if (pending) send(pending, { id });
        renderActions(rec);
        return;
      }
      case "dismiss-confirm": {
        const pending = confirming && confirming.id === id ? confirming.action : null;
        confirming = null;
        renderActions(rec);
        const back = pending ? rec.buttons.get(pending) : null;
        if (back) back.focus();
        return;
      }
      case "dismiss-error":
        dismissedErrors.set(id, str(errors[id]));
        renderActions(rec);
        send("dismiss-error", { id }); // clears it in Python too, so a new view does not show it
        return;
      case "edit":
        openForm("update", id, btn);
        return;
      default:
        break;
    }
    if (CONFIRM_ACTIONS.has(action)) {
      const prevRec = confirming && confirming.id !== id ? recs.get(confirming.id) : null;
      confirming = { id, action };
      if (prevRec) refreshActions(prevRec);
      renderActions(rec);
      if (rec.confirm) rec.confirm.no.focus();
      return;
    }
    send(action, { id });
  }

  function onSearchInput() {
    const value = searchInput.value;
    if (value === search) return;
    search = value;
    terms = searchTerms(value);
    applyAllMatches();
    if (searchTimer !== null) clearT(searchTimer);
    searchTimer = setT(() => {
      searchTimer = null;
      flushSearch();
    }, searchDebounceMs);
  }

  /** @param {KeyboardEvent} ev */
  function onKeydown(ev) {
    if (ev.key !== "Escape") return;
    const target = /** @type {any} */ (ev.target);
    if (formState && form.form.contains(target)) {
      ev.preventDefault();
      closeForm();
      return;
    }
    if (confirming) {
      const rec = recs.get(confirming.id);
      const action = confirming.action;
      confirming = null;
      if (rec) {
        refreshActions(rec);
        const back = rec.mounted ? rec.buttons.get(action) : null;
        if (back) back.focus();
      }
      ev.preventDefault();
    }
  }

  /** @param {MouseEvent} ev */
  function onPointerOver(ev) {
    const target = /** @type {any} */ (ev.target);
    const tr = target && typeof target.closest === "function" ? target.closest("tr[data-model-id]") : null;
    const rec = tr ? recs.get(tr.getAttribute("data-model-id")) : null;
    if (rec) renderTitles(rec);
  }

  /** @param {Event} ev */
  function onSubmit(ev) {
    ev.preventDefault();
    submitForm();
  }

  // ---------------------------------------------------------------- wire up
  /** @type {[string, () => void][]} */
  const handlers = [
    ["change:models", onModels],
    ["change:progress", onProgress],
    ["change:busy", onBusy],
    ["change:errors", onErrors],
    ["change:sort", onSort],
    ["change:filter", onFilter],
    ["change:search", onSearch],
    ["change:connection", onConnectionChange],
    ["change:server", onConnection],
    ["change:last_refresh", onLastRefresh],
    ["change:notice", onNotice],
  ];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  root.addEventListener("click", onClick);
  root.addEventListener("keydown", onKeydown);
  tbody.addEventListener("mouseover", onPointerOver);
  scroller.addEventListener("scroll", onScroll, { passive: true });
  searchInput.addEventListener("input", onSearchInput);
  form.form.addEventListener("submit", onSubmit);

  renderSortHeaders();
  renderChips();
  onModels();
  onConnection();
  // An error notice that is already set when the view opens is shown (not announced again);
  // an old info notice ("Downloaded X") is not worth re-showing in a new view.
  dismissedNoticeSeq = undefined;
  {
    const n = dict(model.get("notice"));
    if (n.text && n.level === "error") {
      setAttr(notice, "data-level", n.level === "error" ? "error" : "info");
      setText(noticeText, str(n.text));
      notice.hidden = false;
    }
  }
  el.appendChild(root);
  // The viewport's height is known once the view is laid out: re-window then, and on resizes.
  const resizeObserver = typeof host.ResizeObserver === "function" ? new host.ResizeObserver(onResize) : null;
  if (resizeObserver) resizeObserver.observe(scroller);
  if (windowed) scheduleFrame();
  tick();
  const interval = setI(tick, 1000);

  return function destroy() {
    if (destroyed) return;
    destroyed = true;
    for (const [ev, fn] of handlers) model.off(ev, fn);
    root.removeEventListener("click", onClick);
    root.removeEventListener("keydown", onKeydown);
    tbody.removeEventListener("mouseover", onPointerOver);
    scroller.removeEventListener("scroll", onScroll);
    if (resizeObserver) resizeObserver.disconnect();
    if (frameId !== null) cancelRaf(frameId);
    frameId = null;
    searchInput.removeEventListener("input", onSearchInput);
    form.form.removeEventListener("submit", onSubmit);
    clearI(interval);
    if (searchTimer !== null) {
      clearT(searchTimer);
      searchTimer = null;
      // Keep the user's last keystrokes: write the pending search before going away.
      if (str(model.get("search")) !== search) writeTrait("search", search);
    }
    if (noticeTimer !== null) clearT(noticeTimer);
    if (refreshTimer !== null) clearT(refreshTimer);
    noticeTimer = refreshTimer = null;
    recs.clear();
    root.remove();
  };
}

/**
 * anywidget entry point.
 * @param {{model: Model, el: HTMLElement}} ctx
 */
function render({ model, el }) {
  return createView(model, el);
}

export default { render };
