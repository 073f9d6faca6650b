// Everything above the table: title and summary, the connection badge, "updated N s ago", the
// toolbar (search, filter chips, Refresh / Free space / Unload all / Add model), the unreachable banner with
// its retry countdown, the "looking for Pieces OS" line and the notice banner.
import { setAttr, setText } from "./dom.js";
import { formatUpdated, isNum } from "./format.js";
import { dict, str } from "./state.js";
import { summaryText } from "./summary.js";
import { FILTERS, filterCounts } from "./table.js";

/** @typedef {import("./table.js").Row} Row */
/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */

export class Header {
  /**
   * @param {Make} e
   * @param {{now: () => number, setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (t: any) => void}} clock
   * @param {number} infoNoticeMs how long an info notice stays (0: until dismissed)
   */
  constructor(e, clock, infoNoticeMs) {
    this.clock = clock;
    this.infoNoticeMs = infoNoticeMs;
    /** @type {any} */ this.noticeTimer = null;
    /** @type {any} */ this.refreshTimer = null;
    this.retryAt = 0;

    this.connLabel = e("span", { class: "pmm-conn-label" });
    this.connUrl = e("span", { class: "pmm-conn-url pmm-mono" });
    this.connVersion = e("span", { class: "pmm-conn-version" });
    this.connEmulated = e("span", { class: "pmm-pill pmm-pill--emulated", text: "emulated", title: "This is the pieces-widgets emulator, not a real Pieces OS", hidden: true });
    this.connBadge = e("span", { class: "pmm-conn", "data-connection": "connecting" },
      e("span", { class: "pmm-conn-dot", "aria-hidden": "true" }), this.connLabel, this.connUrl, this.connVersion, this.connEmulated);
    this.updated = e("span", { class: "pmm-updated" });
    this.summary = e("span", { class: "pmm-summary" });

    this.searchInput = /** @type {HTMLInputElement} */ (
      e("input", { type: "search", class: "pmm-search", placeholder: "Search models", "aria-label": "Search models by name, tag, provider, foundation, quantization or description", autocomplete: "off", spellcheck: "false" })
    );
    /** @type {Map<string, {btn: HTMLElement, count: HTMLElement}>} */
    this.chips = new Map();
    const chipGroup = e("div", { class: "pmm-chips", role: "group", "aria-label": "Filter models" });
    for (const f of FILTERS) {
      const count = e("span", { class: "pmm-chip-count" });
      const btn = e("button", { type: "button", class: "pmm-chip", "data-filter": f.key, "aria-pressed": "false" }, e("span", { text: f.label }), count);
      this.chips.set(f.key, { btn, count });
      chipGroup.appendChild(btn);
    }
    this.refreshBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "refresh", title: "Reload the model list from Pieces OS" }, "Refresh");
    this.unloadAllBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "unload-all", title: "Unload every loaded model from memory", disabled: true }, "Unload all");
    const addBtn = e("button", { type: "button", class: "pmm-btn pmm-btn--primary", "data-action": "add-model" }, "Add model");
    this.freeBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "free-space", "aria-expanded": "false", title: "Plan which downloaded models to delete to free some disk space" }, "Free space…");
    /** where the view puts the runtime badge, beside the connection badge */
    this.statusExtra = e("span", { class: "pmm-status-extra" });

    const head = e("div", { class: "pmm-head" },
      e("div", { class: "pmm-titles" }, e("span", { class: "pmm-title", text: "Pieces OS models" }), this.summary),
      e("div", { class: "pmm-status" }, this.connBadge, this.statusExtra, this.updated));
    const toolbar = e("div", { class: "pmm-toolbar" },
      this.searchInput, chipGroup, e("span", { class: "pmm-spacer" }), this.refreshBtn, this.freeBtn, this.unloadAllBtn, addBtn);

    this.bannerMessage = e("p", { class: "pmm-banner-message" });
    this.bannerTried = e("p", { class: "pmm-banner-tried" });
    this.retryText = e("span", { class: "pmm-retry-in" });
    this.banner = e("div", { class: "pmm-banner pmm-banner--error", "data-banner": "unreachable", hidden: true },
      e("p", { class: "pmm-banner-title", text: "Pieces OS is not reachable" }),
      this.bannerMessage,
      this.bannerTried,
      e("ol", { class: "pmm-steps" },
        e("li", null, "Start Pieces OS and wait until it has finished starting."),
        e("li", null, "Or run ", e("code", { text: "python -m pieces_widgets.emulator" }), " for a local emulator (demos, classes, tests)."),
        e("li", null, "Or set ", e("code", { text: "PIECES_OS_URL" }), " to the server's address, e.g. ", e("code", { text: "http://127.0.0.1:39300" }), ".")),
      e("div", { class: "pmm-banner-actions" }, e("button", { type: "button", class: "pmm-btn pmm-btn--primary", "data-action": "retry" }, "Retry now"), this.retryText));
    this.connecting = e("div", { class: "pmm-connecting", hidden: true },
      e("span", { class: "pmm-spinner", "aria-hidden": "true" }), e("span", { text: "Looking for Pieces OS…" }));
    this.noticeText = e("span", { class: "pmm-notice-text" });
    this.notice = e("div", { class: "pmm-banner pmm-notice", "data-level": "info", hidden: true }, this.noticeText,
      e("button", { type: "button", class: "pmm-icon-btn", "data-action": "dismiss-notice", "aria-label": "Dismiss message", title: "Dismiss" }, "×"));
    /** in document order */
    this.nodes = [head, toolbar, this.banner, this.connecting, this.notice];
  }

  /** Badge and unreachable banner. @param {string} conn @param {Record<string, any>} server */
  renderConnection(conn, server) {
    setAttr(this.connBadge, "data-connection", conn);
    setText(this.connLabel, conn === "connected" ? "Connected" : conn === "unreachable" ? "Unreachable" : conn === "connecting" ? "Connecting…" : conn);
    const url = str(server.url);
    setText(this.connUrl, conn === "connected" ? url : "");
    const stream = conn === "connected" ? str(server.stream_message) : "";
    setAttr(this.connBadge, "title", [url ? `Pieces OS at ${url}` : "", stream].filter(Boolean).join("\n") || null);
    setAttr(this.connBadge, "data-stream", conn === "connected" && server.stream ? str(server.stream) : null);
    setText(this.connVersion, conn === "connected" && server.version ? `v${str(server.version).replace(/^v/i, "")}` : "");
    this.connEmulated.hidden = !server.emulated;
    const unreachable = conn === "unreachable";
    this.banner.hidden = !unreachable;
    if (unreachable) {
      setText(this.bannerMessage, str(server.message) || "No Pieces OS server answered.");
      const tried = Array.isArray(server.tried) ? server.tried.map(str).filter(Boolean) : [];
      const shown = tried.length > 6 ? `${tried.slice(0, 4).join(", ")} … and ${tried.length - 4} more` : tried.join(", ");
      setText(this.bannerTried, tried.length ? `Tried ${shown}` : "");
      this.bannerTried.hidden = tried.length === 0;
      setAttr(this.bannerTried, "title", tried.length ? tried.join("\n") : null);
      this.retryAt = isNum(server.retry_at) && server.retry_at > 0
        ? server.retry_at * 1000
        : isNum(server.retry_in) && server.retry_in > 0 ? this.clock.now() + server.retry_in * 1000 : 0;
    }
    if (conn !== "connecting") this.setRefreshing(false);
  }

  /** The quiet "looking for Pieces OS" line (instead of an empty table). @param {string} conn @param {number} rowCount */
  renderConnecting(conn, rowCount) {
    this.connecting.hidden = !(conn === "connecting" && rowCount === 0);
  }

  /** @param {string} filter */
  renderChips(filter) {
    for (const [key, chip] of this.chips) setAttr(chip.btn, "aria-pressed", key === filter ? "true" : "false");
  }

  /** Summary, chip counts and Unload all, from every row (not only the matching ones). @param {Row[]} rows */
  renderCounts(rows) {
    const counts = filterCounts(rows);
    const loaded = counts.loaded;
    /** @type {HTMLButtonElement} */ (this.unloadAllBtn).disabled = loaded === 0;
    setAttr(this.unloadAllBtn, "title", loaded ? `Unload ${loaded} loaded model${loaded === 1 ? "" : "s"} from memory` : "Nothing is loaded");
    for (const [key, chip] of this.chips) setText(chip.count, String(counts[/** @type {keyof typeof counts} */ (key)]));
    setText(this.summary, rows.length ? summaryText(rows) : "");
  }

  /** The 1 s timer: touches only the "updated N s ago" and retry countdown texts. @param {boolean} any @param {unknown} lastRefresh */
  tick(any, lastRefresh) {
    const t = this.clock.now();
    setText(this.updated, any || lastRefresh ? formatUpdated(lastRefresh, t) : "");
    if (!this.banner.hidden) {
      const left = this.retryAt ? Math.max(0, Math.ceil((this.retryAt - t) / 1000)) : 0;
      setText(this.retryText, this.retryAt ? (left > 0 ? `Retrying automatically in ${left} s` : "Retrying…") : "");
    }
  }

  /** Refresh shows as busy until the next snapshot or connection change (at most 5 s). @param {boolean} on */
  setRefreshing(on) {
    if (this.refreshTimer !== null) this.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = on ? this.clock.setTimeout(() => this.setRefreshing(false), 5000) : null;
    setAttr(this.refreshBtn, "aria-busy", on ? "true" : null);
  }

  /**
   * Show the notice trait (unless dismissed); an info notice goes by itself after a while.
   * @param {unknown} value the notice trait @param {any} dismissedSeq @returns {string} the text shown, "" if none
   */
  showNotice(value, dismissedSeq) {
    const n = dict(value);
    const text = str(n.text);
    this.clearNoticeTimer();
    const show = Boolean(text) && n.seq !== dismissedSeq;
    this.notice.hidden = !show;
    if (!show) return "";
    const level = n.level === "error" ? "error" : "info";
    setAttr(this.notice, "data-level", level);
    setText(this.noticeText, text);
    if (level === "info" && this.infoNoticeMs > 0) {
      this.noticeTimer = this.clock.setTimeout(() => {
        this.noticeTimer = null;
        this.notice.hidden = true;
      }, this.infoNoticeMs);
    }
    return text;
  }

  hideNotice() {
    this.clearNoticeTimer();
    this.notice.hidden = true;
  }

  clearNoticeTimer() {
    if (this.noticeTimer !== null) this.clock.clearTimeout(this.noticeTimer);
    this.noticeTimer = null;
  }

  destroy() {
    this.clearNoticeTimer();
    this.setRefreshing(false);
  }
}
