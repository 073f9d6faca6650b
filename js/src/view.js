// One view of the ModelManager widget: it assembles the parts, maps each trait to its handler
// and collects the cleanups. Rows are built at most once per model id (lazily) and updated in
// place: a progress tick touches only its row, a snapshot reconciles rows by id, sorting
// reorders existing rows, filtering toggles `hidden`; big catalogues render a window of rows
// (rowlist.js). Everything is found relative to `el` (never `document`), so the view works in
// a shadow root (marimo) or an iframe of its own (Colab).
import { GATED, actionEnabled, actionsFor } from "./actions.js";
import { Catalog } from "./catalog.js";
import { dispatch, escape } from "./commands.js";
import { makeEnv } from "./env.js";
import { formController } from "./form.js";
import { Header } from "./header.js";
import { Live } from "./live.js";
import { createOverview } from "./overview.js";
import { changedProgressIds, terminalAnnouncement } from "./progress.js";
import { RowList } from "./rowlist.js";
import { RowView, displayName, rowParts } from "./rowview.js";
import { changedKeys, createLocalState, createMirror, dict, setSearch, str } from "./state.js";
import { createSync } from "./sync.js";
import { TableView } from "./tableview.js";
import { nextSort, normalizeFilter, normalizeSort } from "./table.js";

/** @typedef {import("./catalog.js").Entry} Entry */
/** @typedef {import("./env.js").Model} Model */
/** @typedef {import("./env.js").ViewOptions} ViewOptions */

const SEARCH_DEBOUNCE_MS = 250;
const INFO_NOTICE_MS = 8000;

/**
 * Build the view into `el`. Returns `destroy()`, which removes every listener, timer and node.
 * @param {Model} model @param {HTMLElement} el @param {ViewOptions} [options]
 */
export function createView(model, el, options = {}) {
  const env = makeEnv(el, options);
  const state = createLocalState(model);
  const mirror = createMirror(model);
  const sync = createSync(model, env, options.searchDebounceMs ?? SEARCH_DEBOUNCE_MS);
  const catalog = new Catalog();
  const live = new Live(env.e);
  const header = new Header(env.e, env, options.infoNoticeMs ?? INFO_NOTICE_MS);
  const tableView = new TableView(env.e);
  const parts = rowParts(env.e);
  const form = formController(env.doc, {
    rowOf: (id) => catalog.byId.get(id)?.row || null,
    nameOf: (id) => {
      const entry = catalog.byId.get(id);
      return entry && entry.row ? displayName(entry.row, id) : id;
    },
    send: sync.send,
    state,
  });
  const rowList = new RowList({ ...tableView, render: renderEntry, raf: env.raf, cancelRaf: env.cancelRaf });
  const overview = createOverview({ e: env.e, model, sync, catalog, mirror, live, refreshActions, selectAll: tableView.selectAll, freeButton: header.freeBtn });
  header.statusExtra.appendChild(overview.runtimeNode);
  const root = env.e("div", { class: "pieces-mm", "data-lm-suppress-shortcuts": "true" },
    ...header.nodes, overview.cleanupNode, form.node, overview.budgetNode, overview.bulkNode, tableView.scroller, live.node);
  const searchInput = header.searchInput;
  searchInput.value = state.search;
  let destroyed = false;
  let lastConn = str(model.get("connection"));

  // ---- rows
  /** The entry's row element, built on first use and brought up to date. @param {Entry} entry */
  function renderEntry(entry) {
    let view = entry.view;
    if (!view) view = entry.view = new RowView(parts, entry.id);
    if (entry.dirty) {
      entry.dirty = false;
      view.update(entry.row);
      view.renderState(mirror.progress[entry.id]);
      renderActions(entry);
    }
    view.renderSelected(overview.isSelected(entry.id));
    return view.tr;
  }

  /** The actions cell from busy, errors and this view's confirmation and dismissals. @param {Entry} entry */
  function renderActions(entry) {
    if (!entry.view) return;
    const id = entry.id;
    const busy = mirror.busy[id] ? str(mirror.busy[id]) : "";
    const err = mirror.errors[id] ? str(mirror.errors[id]) : "";
    const acts = actionsFor(entry.row, busy || null);
    const c = state.confirming;
    // A pending confirmation lapses when its action is no longer offered (state changed, busy,
    // the runtime now blocks it).
    const gone = (/** @type {string} */ a) => !acts.includes(a) || !actionEnabled(a, busy || null) || (GATED.has(a) && !entry.row.cloud && Boolean(overview.blocked()));
    if (c && c.id === id && gone(c.action)) state.confirming = null;
    const confirm = state.confirming && state.confirming.id === id ? state.confirming.action : "";
    const error = err && state.dismissedErrors.get(id) !== err ? err : "";
    entry.view.renderActions({ acts, busy, confirm, error, blocked: overview.blocked() });
  }

  /** The actions cell now if the row is in the DOM, else when it is next shown. @param {Entry} entry */
  function refreshActions(entry) {
    if (entry.slot.mounted) renderActions(entry);
    else entry.dirty = true;
  }

  /** Filter or search changed: recompute matches and show the result. */
  function applyMatches() {
    catalog.rematch(state.filter, state.terms);
    rowList.show(catalog.order(state.sort));
    renderCounts();
    overview.onMatches();
  }

  /** Sort changed: reorder the rows. */
  function applyOrder() {
    catalog.sorted = null;
    rowList.show(catalog.order(state.sort));
  }

  function renderCounts() {
    const conn = str(model.get("connection"));
    const total = catalog.rows.length;
    tableView.renderCounts({ conn, total, visible: catalog.visible, filter: state.filter, search: state.search, searching: state.terms.length > 0 });
    header.renderConnecting(conn, total);
  }

  function tick() {
    if (!destroyed) header.tick(catalog.rows.length > 0, model.get("last_refresh"));
  }

  // ---- trait handlers
  function onModels() {
    const { moved, removed } = catalog.apply(model.get("models"), {
      filter: state.filter,
      terms: state.terms,
      sortColumn: state.sort.column,
      onRow: (entry) => {
        entry.dirty = true;
        if (entry.slot.mounted) renderEntry(entry);
      },
    });
    for (const entry of removed) {
      rowList.drop(entry);
      state.dismissedErrors.delete(entry.id);
      if (state.confirming && state.confirming.id === entry.id) state.confirming = null;
    }
    if (moved) rowList.show(catalog.order(state.sort));
    renderCounts();
    header.renderCounts(catalog.rows);
    overview.onRows();
  }

  function onProgress() {
    const before = mirror.progress;
    const next = (mirror.progress = dict(model.get("progress")));
    for (const id of changedProgressIds(before, next)) {
      const entry = catalog.byId.get(id);
      if (!entry) continue;
      if (!entry.slot.mounted || !entry.view) entry.dirty = true; // not in the DOM: nothing to touch now
      else if (entry.view.renderState(next[id])) renderActions(entry);
      const msg = terminalAnnouncement(before[id], next[id], displayName(entry.row, id));
      if (msg) live.announce(msg);
    }
  }

  function onBusy() {
    const next = dict(model.get("busy"));
    const keys = changedKeys(mirror.busy, next);
    mirror.busy = next;
    for (const id of keys) {
      const entry = catalog.byId.get(id);
      if (entry) refreshActions(entry);
    }
    overview.onBusy();
  }

  function onErrors() {
    const next = dict(model.get("errors"));
    const keys = changedKeys(mirror.errors, next);
    mirror.errors = next;
    for (const id of keys) {
      const entry = catalog.byId.get(id);
      if (!entry) continue;
      const err = str(next[id]);
      if (err) {
        state.dismissedErrors.delete(id);
        live.announce(`${displayName(entry.row, id)}: ${err}`);
      }
      refreshActions(entry);
    }
  }

  function onSort() {
    const s = normalizeSort(model.get("sort"));
    if (s.column === state.sort.column && s.descending === state.sort.descending) return;
    state.sort = s;
    tableView.renderSort(s);
    applyOrder();
  }

  function onFilter() {
    const f = normalizeFilter(model.get("filter"));
    if (f === state.filter) return;
    state.filter = f;
    header.renderChips(f);
    applyMatches();
  }

  function onSearch() {
    const s = str(model.get("search"));
    if (s === state.search || sync.typing()) return; // ignore while the user is typing
    setSearch(state, s);
    if (searchInput.value !== s) searchInput.value = s;
    applyMatches();
  }

  function onConnection() {
    const conn = str(model.get("connection")) || "connecting";
    header.renderConnection(conn, dict(model.get("server")));
    root.setAttribute("data-state", conn);
    renderCounts();
    tick();
  }

  function onConnectionChange() {
    const conn = str(model.get("connection"));
    if (conn !== lastConn) {
      if (conn === "unreachable") live.announce("Pieces OS is not reachable.");
      else if (conn === "connected" && lastConn === "unreachable") live.announce("Connected to Pieces OS.");
      lastConn = conn;
    }
    onConnection();
  }

  function onLastRefresh() {
    header.setRefreshing(false);
    tick();
  }

  function onNotice() {
    live.announce(header.showNotice(model.get("notice"), state.dismissedNoticeSeq));
  }

  /** Each trait this view follows, and its handler. */
  const TRAITS = {
    models: onModels,
    progress: onProgress,
    busy: onBusy,
    errors: onErrors,
    sort: onSort,
    filter: onFilter,
    search: onSearch,
    connection: onConnectionChange,
    server: onConnection,
    last_refresh: onLastRefresh,
    notice: onNotice,
    ...overview.traits,
  };

  // ---- DOM events
  /** @type {import("./commands.js").Ctx} */
  const ctx = {
    model,
    state,
    mirror,
    sync,
    header,
    form,
    entry: (id) => catalog.byId.get(id),
    renderActions,
    refreshActions,
    overview,
    setFilter(key) {
      if (key === state.filter) return;
      state.filter = normalizeFilter(key);
      header.renderChips(state.filter);
      applyMatches();
      sync.writeTrait("filter", state.filter);
    },
    setSort(column) {
      state.sort = nextSort(state.sort, column);
      tableView.renderSort(state.sort);
      applyOrder();
      sync.writeTrait("sort", { column: state.sort.column, descending: state.sort.descending });
    },
    clearFilters() {
      setSearch(state, "");
      searchInput.value = "";
      state.filter = "all";
      header.renderChips(state.filter);
      applyMatches();
      sync.writeTrait("filter", state.filter);
      sync.flushSearch("");
      searchInput.focus();
    },
  };

  /** The row id of an event's target (null outside rows). @param {Event} ev */
  function rowIdOf(ev) {
    const target = /** @type {any} */ (ev.target);
    const tr = target && typeof target.closest === "function" ? target.closest("tr[data-model-id]") : null;
    return tr ? tr.getAttribute("data-model-id") : null;
  }

  /** @param {MouseEvent} ev */
  function onClick(ev) {
    const target = /** @type {any} */ (ev.target);
    const btn = target && typeof target.closest === "function" ? target.closest("button") : null;
    if (btn && root.contains(btn) && !btn.disabled) dispatch(ctx, btn);
  }

  /** @param {KeyboardEvent} ev */
  function onKeydown(ev) {
    if (ev.key === "Escape") escape(ctx, ev);
  }

  /** @param {MouseEvent} ev */
  function onPointerOver(ev) {
    const id = rowIdOf(ev);
    const entry = id ? catalog.byId.get(id) : undefined;
    if (entry && entry.view) entry.view.renderTitles();
    overview.point("hover", entry ? entry.id : null);
  }

  /** A row or select-all checkbox. @param {Event} ev */
  function onChange(ev) {
    const box = /** @type {HTMLInputElement} */ (ev.target);
    if (box === tableView.selectAll) return overview.toggleAll(box.checked);
    const id = box.hasAttribute && box.hasAttribute("data-select") ? rowIdOf(ev) : null;
    if (id) overview.toggle(id, box.checked);
  }

  function onSearchInput() {
    const value = searchInput.value;
    if (value === state.search) return;
    setSearch(state, value);
    applyMatches();
    sync.queueSearch(value);
  }

  // ---- wire up
  /** @type {(() => void)[]} */
  const cleanups = [];
  /** @param {EventTarget} target @param {string} type @param {(ev: any) => void} fn */
  const listen = (target, type, fn) => {
    target.addEventListener(type, fn);
    cleanups.push(() => target.removeEventListener(type, fn));
  };
  for (const [key, fn] of Object.entries(TRAITS)) {
    model.on(`change:${key}`, fn);
    cleanups.push(() => model.off(`change:${key}`, fn));
  }
  listen(root, "click", onClick);
  listen(root, "keydown", onKeydown);
  listen(tableView.tbody, "mouseover", onPointerOver);
  listen(tableView.tbody, "mouseleave", () => overview.point("hover", null));
  // The share on the budget bars follows the row holding focus, and clears once focus leaves
  // the rows (to the bulk bar, the toolbar, or out of the widget).
  listen(root, "focusin", (ev) => overview.point("focus", rowIdOf(ev)));
  listen(root, "focusout", (ev) => {
    if (!ev.relatedTarget || !root.contains(ev.relatedTarget)) overview.point("focus", null);
  });
  listen(root, "change", onChange);
  listen(overview.cleanupNode, "submit", (ev) => {
    ev.preventDefault();
    overview.plan();
  });
  listen(searchInput, "input", onSearchInput);

  tableView.renderSort(state.sort);
  header.renderChips(state.filter);
  onModels();
  overview.init();
  onConnection();
  // An error notice already set when the view opens is shown (not announced again); an old info
  // notice ("Downloaded X") is not worth showing again in a new view.
  if (dict(model.get("notice")).level === "error") header.showNotice(model.get("notice"), undefined);
  el.appendChild(root);
  if (rowList.windowed) rowList.schedule();
  tick();
  const interval = env.setInterval(tick, 1000);
  cleanups.push(() => env.clearInterval(interval), () => rowList.destroy(), () => form.destroy(), () => header.destroy(), () => live.destroy(), () => sync.destroy());

  return function destroy() {
    if (destroyed) return;
    destroyed = true;
    for (const fn of cleanups) fn();
    catalog.byId.clear();
    root.remove();
  };
}
