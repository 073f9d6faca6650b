// One model's table row (quak's one-class-per-part, for rows). A RowView owns its DOM: cloned
// from a template built once per view, cells found by `data-slot` (never by position), each
// part written only when what it shows changed. It keeps DOM references and the values it last
// rendered, nothing else: row data, matching and sorting live in the catalogue (catalog.js),
// windowing in the row list (rowlist.js). Server data reaches the DOM only as text and
// attribute values.
import { ACTION_LABELS, ACTION_VARIANTS, CANCELLABLE_BUSY, GATED, actionEnabled, busyLabel } from "./actions.js";
import { activeElement, setAttr, setText } from "./dom.js";
import { isTerminal, progressView, stateText } from "./progress.js";
import { buildBlocked, buildConfirm, buildError, buildProgress, fillConfirm } from "./rowparts.js";
import { str } from "./state.js";
import { COLUMNS, foldLevel } from "./table.js";

/** @typedef {import("./table.js").Row} Row */
/** @typedef {import("./progress.js").Progress} Progress */
/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */

const KNOWN_STATES = new Set(["cloud", "available", "downloading", "downloaded", "loaded"]);
/** Columns drawn from their table entry alone (name, provider and state have their own code). */
const PLAIN = COLUMNS.filter((c) => c.text);
/** Columns whose value moves to the name cell's meta line when folded away. */
const FOLDED = COLUMNS.filter((c) => c.meta && foldLevel(c) > 0).sort((a, b) => Number(Boolean(b.metaFirst)) - Number(Boolean(a.metaFirst)));
/** One meta span per fold level, the most important (last to fold) first. */
const FOLD_LEVELS = [...new Set(FOLDED.map(foldLevel))].sort((a, b) => b - a);
/** Parts looked up by name in code but not named in the DOM (only cells and the meta line are). */
const UNNAMED = new Set(["check", "name-line", "name-text", "unique", "provider-text", "foundation", "state-text", "buttons", ...FOLD_LEVELS.map((l) => `fold-${l}`)]);

/** @param {Row} row @param {string} id */
export function displayName(row, id) {
  return str(row.name) || str(row.unique) || id;
}

/**
 * What one view clones its rows from: the row template, the custom pill and one button per
 * action (cloning is much cheaper than building each row from scratch).
 * @param {Make} e
 */
export function rowParts(e) {
  const cells = COLUMNS.map((c) => {
    const fold = foldLevel(c);
    const td = e("td", { class: c.cell || (c.numeric ? "pmm-num" : null), "data-slot": c.key, "data-fold": fold ? String(fold) : null });
    if (c.key === "name") {
      const meta = e("div", { class: "pmm-meta", "data-slot": "meta" });
      for (const level of FOLD_LEVELS) meta.appendChild(e("span", { "data-slot": `fold-${level}`, "data-fold": String(level) }));
      td.append(e("div", { class: "pmm-name-line", "data-slot": "name-line" }, e("span", { class: "pmm-name", "data-slot": "name-text" })),
        meta, e("div", { class: "pmm-sub pmm-mono", "data-slot": "unique" }));
    } else if (c.key === "provider") {
      td.append(e("div", { class: "pmm-ellipsis", "data-slot": "provider-text" }), e("div", { class: "pmm-sub pmm-ellipsis", "data-slot": "foundation" }));
    } else if (c.key === "state") {
      td.append(e("span", { class: "pmm-state", "data-slot": "state-text" }));
    }
    return td;
  });
  const select = e("td", { class: "pmm-c-select", "data-slot": "select" },
    e("input", { type: "checkbox", class: "pmm-check", "data-select": "true", "data-slot": "check" }));
  const template = e("tr", { class: "pmm-row", role: "row" }, select, ...cells,
    e("td", { class: "pmm-c-actions", "data-slot": "actions" }, e("div", { class: "pmm-actions", "data-slot": "buttons" })));
  for (const td of template.children) td.setAttribute("role", "cell");
  /** @type {Map<string, Node>} */
  const buttons = new Map();
  for (const [action, label] of Object.entries(ACTION_LABELS)) {
    const variant = /** @type {Record<string, string>} */ (ACTION_VARIANTS)[action];
    buttons.set(action, e("button", { type: "button", class: `pmm-btn pmm-btn--sm${variant ? ` pmm-btn--${variant}` : ""}`, "data-action": action }, label));
  }
  const pill = e("span", { class: "pmm-pill pmm-pill--custom", text: "custom", title: "A custom model (can be edited and deleted)" });
  /** @type {[string, number[]][]} each slot's path of element-child indexes from the row */
  const slotPaths = [];
  for (const node of template.querySelectorAll("[data-slot]")) {
    const path = [];
    for (let n = /** @type {Element} */ (node); n !== template; n = /** @type {Element} */ (n.parentElement)) {
      path.unshift([.../** @type {Element} */ (n.parentElement).children].indexOf(n));
    }
    const name = /** @type {string} */ (node.getAttribute("data-slot"));
    slotPaths.push([name, path]);
    if (UNNAMED.has(name)) node.removeAttribute("data-slot"); // less to clone per row
  }
  return { e, template, buttons, pill, slotPaths };
}

/** @typedef {ReturnType<typeof rowParts>} RowParts */

/**
 * What the actions cell shows, decided by the view from busy, errors and its own state;
 * `blocked`: why a local Download or Load is unavailable now (the local runtime), "" when it is
 * available.
 * @typedef {{acts: string[], busy: string, confirm: string, error: string, blocked?: string}} ActionsCtx
 */

export class RowView {
  /** @param {RowParts} parts @param {string} id */
  constructor(parts, id) {
    this.parts = parts;
    this.id = id;
    this.tr = /** @type {HTMLElement} */ (parts.template.cloneNode(true));
    this.tr.setAttribute("data-model-id", id);
    // Slots by name, found along the template's paths (a selector query per row costs more).
    /** @type {Record<string, HTMLElement>} */
    const slots = {};
    for (const [name, path] of parts.slotPaths) {
      let n = /** @type {Element} */ (this.tr);
      for (const i of path) {
        n = /** @type {Element} */ (n.firstElementChild);
        for (let k = 0; k < i; k++) n = /** @type {Element} */ (n.nextElementSibling);
      }
      slots[name] = /** @type {HTMLElement} */ (n);
    }
    this.slots = slots;
    /** @type {Row} */ this.row = /** @type {any} */ ({ id });
    /** last rendered values, by part */
    /** @type {Record<string, any>} */ this.v = {};
    /** the row dict whose tooltips are set */
    /** @type {Row | null} */ this.titled = null;
    /** @type {HTMLElement | null} */ this.custom = null;
    /** @type {Map<string, HTMLElement>} */ this.buttons = new Map();
    /** @type {HTMLElement | null} */ this.busyEl = null;
    /** @type {ReturnType<typeof buildConfirm> | null} */ this.confirm = null;
    /** @type {ReturnType<typeof buildError> | null} */ this.error = null;
    /** @type {ReturnType<typeof buildProgress> | null} */ this.prog = null;
    /** @type {HTMLElement | null} */ this.blockedEl = null;
    this.actSig = "";
    this.progVisible = false;
    /** @type {Record<string, string> | null} folded columns' texts, by column */
    this.meta = null;
    this.metaDirty = false;
  }

  get name() {
    return displayName(this.row, this.id);
  }

  /** Data cells from a (new) row dict; writes only what changed. @param {Row} row */
  update(row) {
    this.row = row;
    const { v, slots } = this;
    const name = this.name;
    if (v.name !== name) {
      v.name = name;
      slots["name-text"].textContent = name;
      slots["name-text"].setAttribute("title", name);
      slots.check.setAttribute("aria-label", `Select ${name}`);
    }
    const unique = str(row.unique);
    if (v.unique !== unique) {
      v.unique = unique;
      slots.unique.textContent = unique;
    }
    const custom = Boolean(row.custom);
    if (v.custom !== custom) {
      v.custom = custom;
      if (custom && !this.custom) {
        this.custom = /** @type {HTMLElement} */ (this.parts.pill.cloneNode(true));
        slots["name-line"].appendChild(this.custom);
      } else if (!custom && this.custom) {
        this.custom.remove();
        this.custom = null;
      }
      setAttr(this.tr, "data-custom", custom ? "true" : null);
    }
    const provider = str(row.provider);
    if (v.provider !== provider) {
      v.provider = provider;
      slots["provider-text"].textContent = provider || "—";
      setAttr(slots["provider-text"], "data-missing", provider ? null : "true");
      this.setMeta("provider", provider);
    }
    const foundation = str(row.foundation);
    if (v.foundation !== foundation) {
      v.foundation = foundation;
      slots.foundation.textContent = foundation;
    }
    for (const col of PLAIN) {
      const raw = col.value ? col.value(row) : /** @type {any} */ (row)[col.key];
      if (col.key in v && v[col.key] === raw) continue;
      v[col.key] = raw;
      const text = /** @type {(raw: any) => string} */ (col.text)(raw);
      const cell = slots[col.key];
      cell.textContent = text;
      if (col.attr) setAttr(cell, "data-value", text || null);
      if (col.meta) this.setMeta(col.key, text ? col.meta(text) : "");
    }
    if (this.metaDirty) this.renderMeta();
  }

  /** The row's checkbox (selection lives in the view's state, not here). @param {boolean} on */
  renderSelected(on) {
    if (this.v.selected === on) return;
    this.v.selected = on;
    /** @type {HTMLInputElement} */ (this.slots.check).checked = on;
    setAttr(this.tr, "data-selected", on ? "true" : null);
  }

  /** A folded column's text on the meta line (written by renderMeta). @param {string} key @param {string} text */
  setMeta(key, text) {
    if (!this.meta) this.meta = {};
    if (this.meta[key] === text) return;
    this.meta[key] = text;
    this.metaDirty = true;
  }

  /** The meta line: per fold level, its columns' texts (spaces inside a value do not break). */
  renderMeta() {
    this.metaDirty = false;
    const meta = /** @type {Record<string, string>} */ (this.meta);
    for (const level of FOLD_LEVELS) {
      const parts = [];
      for (const c of FOLDED) if (foldLevel(c) === level && meta[c.key]) parts.push(meta[c.key].replace(/ /g, "\u00a0"));
      setText(this.slots[`fold-${level}`], parts.join(" · "));
    }
  }

  /**
   * Tooltips with exact values (bytes, tokens) and untruncated texts, set lazily when the
   * pointer first enters a row (cheaper than setting ~8 attributes on every row up front).
   */
  renderTitles() {
    const r = this.row;
    if (this.titled === r) return;
    this.titled = r;
    const s = this.slots;
    /** @param {Element} node @param {string} text */
    const t = (node, text) => setAttr(node, "title", text || null);
    t(s.unique, str(r.unique));
    t(s["provider-text"], str(r.provider) || "No provider reported");
    t(s.foundation, str(r.foundation));
    for (const col of PLAIN) if (col.title) t(s[col.key], col.title(r));
  }

  /**
   * State cell: the state text, and the progress block while downloading. Returns true when the
   * progress block appeared or went (the actions cell depends on it: busy label).
   * @param {Progress | undefined} p this row's progress entry
   */
  renderState(p) {
    const row = this.row;
    const show = row.state === "downloading" || Boolean(p && !isTerminal(p));
    const view = show ? progressView(p, row.bytes) : null;
    const stateEl = this.slots["state-text"];
    setText(stateEl, stateText(row.state, view));
    setAttr(stateEl, "data-state", view ? "downloading" : KNOWN_STATES.has(str(row.state)) ? str(row.state) : "other");
    if (view) {
      if (!this.prog) {
        this.prog = buildProgress(this.parts.e);
        this.slots.state.appendChild(this.prog.wrap);
      }
      const pg = this.prog;
      setAttr(pg.bar, "aria-label", `Download progress of ${this.name}`);
      setAttr(pg.bar, "aria-valuenow", String(view.valuenow));
      setAttr(pg.bar, "aria-valuetext", view.valuetext);
      const scale = `scaleX(${(view.percent / 100).toFixed(4)})`;
      if (pg.fill.style.transform !== scale) pg.fill.style.transform = scale;
      setAttr(pg.wrap, "data-known", view.known ? null : "false");
      setText(pg.bytes, view.bytes);
      setText(pg.rate, [view.speed, view.eta ? `${view.eta} left` : ""].filter(Boolean).join(" · "));
      if (pg.stalled.hidden === view.stalled) pg.stalled.hidden = !view.stalled;
      setAttr(pg.wrap, "data-stalled", view.stalled ? "true" : null);
    } else if (this.prog) {
      this.prog.wrap.remove();
      this.prog = null;
    }
    if (this.progVisible === show) return false;
    this.progVisible = show;
    return true;
  }

  /**
   * Actions cell: buttons (reused by action, so focus survives updates), the busy label, the
   * inline confirmation and the row's error. When the focused control goes away, focus moves
   * to the row's first usable button (or the cell), never to the page.
   * @param {ActionsCtx} ctx
   */
  renderActions({ acts, busy, confirm, error, blocked = "" }) {
    const showBusy = Boolean(busy) && !(CANCELLABLE_BUSY.has(busy) && this.progVisible);
    const name = this.name;
    const r = this.row;
    const fitSig = confirm === "download" || confirm === "load" ? `${r.fit}|${r.fit_text}|${this.v.fit}` : "";
    const block = !r.cloud && acts.some((a) => GATED.has(a)) ? blocked : "";
    const sig = `${acts.join(",")}|${busy}|${showBusy}|${confirm}|${error}|${name}|${this.v.bytes}|${fitSig}|${block}`;
    if (sig === this.actSig) return;
    this.actSig = sig;
    const e = this.parts.e;
    const cell = this.slots.actions;
    const box = this.slots.buttons;
    const active = activeElement(this.tr);
    let lostFocus = false;

    for (const [action, btn] of this.buttons) {
      if (!acts.includes(action)) {
        if (btn === active) lostFocus = true;
        btn.remove();
        this.buttons.delete(action);
      }
    }
    /** @type {Node | null} */
    let prev = null;
    for (const action of acts) {
      let btn = this.buttons.get(action);
      if (!btn) {
        const proto = this.parts.buttons.get(action);
        btn = /** @type {HTMLElement} */ (proto ? proto.cloneNode(true) : e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": action }, action));
        this.buttons.set(action, btn);
      }
      setAttr(btn, "aria-label", `${/** @type {Record<string, string>} */ (ACTION_LABELS)[action] || action} ${name}`);
      const gated = GATED.has(action);
      const disabled = !actionEnabled(action, busy || null) || (gated && Boolean(block));
      if (gated) {
        setAttr(btn, "title", block || null);
        setAttr(btn, "aria-describedby", block && this.blockedEl ? this.blockedEl.id : null);
      }
      if (/** @type {HTMLButtonElement} */ (btn).disabled !== disabled) {
        /** @type {HTMLButtonElement} */ (btn).disabled = disabled;
        if (disabled && btn === active) lostFocus = true;
      }
      const want = prev ? prev.nextSibling : box.firstChild;
      if (want !== btn) box.insertBefore(btn, want);
      prev = btn;
    }
    if (showBusy) {
      if (!this.busyEl) this.busyEl = e("span", { class: "pmm-busy" }, e("span", { class: "pmm-spinner", "aria-hidden": "true" }), e("span", null));
      setText(/** @type {Node} */ (this.busyEl.lastChild), busyLabel(busy));
      box.appendChild(this.busyEl);
    } else if (this.busyEl) {
      this.busyEl.remove();
      this.busyEl = null;
    }
    setAttr(this.tr, "data-busy", busy || null);
    this.renderBlocked(block);
    if (box.hidden !== Boolean(confirm)) box.hidden = Boolean(confirm);

    if (confirm) {
      if (!this.confirm) {
        this.confirm = buildConfirm(e);
        cell.insertBefore(this.confirm.box, box.nextSibling);
      }
      const c = this.confirm;
      fillConfirm(c, confirm, r, name);
      if (lostFocus || cell.contains(active)) c.no.focus();
      lostFocus = false;
    } else if (this.confirm) {
      if (this.confirm.box.contains(activeElement(this.tr))) lostFocus = true;
      this.confirm.box.remove();
      this.confirm = null;
    }

    if (error) {
      if (!this.error) {
        this.error = buildError(e);
        cell.appendChild(this.error.box);
      }
      setText(this.error.text, error);
      setAttr(this.error.text, "title", error);
    } else if (this.error) {
      if (this.error.box.contains(activeElement(this.tr))) lostFocus = true;
      this.error.box.remove();
      this.error = null;
    }
    setAttr(this.tr, "data-error", error ? "true" : null);

    if (lostFocus) {
      const target = [...this.buttons.values()].find((btn) => !(/** @type {HTMLButtonElement} */ (btn).disabled));
      if (target) target.focus();
      else {
        cell.setAttribute("tabindex", "-1");
        cell.focus();
      }
    }
  }

  /** The note saying why Download / Load is unavailable (the runtime). @param {string} reason */
  renderBlocked(reason) {
    if (reason) {
      if (!this.blockedEl) {
        this.blockedEl = buildBlocked(this.parts.e);
        this.slots.actions.appendChild(this.blockedEl);
        for (const a of GATED) this.buttons.get(a)?.setAttribute("aria-describedby", this.blockedEl.id);
      }
      setText(this.blockedEl, reason);
      setAttr(this.blockedEl, "title", reason);
    } else if (this.blockedEl) {
      this.blockedEl.remove();
      this.blockedEl = null;
    }
  }
}
