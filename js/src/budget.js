// Budget at a glance: two small bars above the table, disk used by downloaded models (of the
// bytes of all local models) and RAM used by loaded models (of the machine's usable memory),
// with the hovered, focused or only selected row's share highlighted: its size on disk, and
// what loading it would add to RAM (or what it holds, when loaded). While a deletion is being
// decided (a bulk Delete cache confirmation, a Free space plan) the disk bar previews what it
// frees instead ("will free" segment) and no row share shows. Each bar is one role="img" whose
// aria-label carries the figures; budget.note is the tooltip.
import { setAttr, setText } from "./dom.js";
import { formatBytes, isNum } from "./format.js";
import { str } from "./state.js";

/** @typedef {import("./table.js").Row} Row */
/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */
/** Bytes a pending deletion frees on the disk bar, and what frees them (for the label). */
/** @typedef {{bytes: number, what: string}} Freeing */

/** @param {number} n @param {string} one */
const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;
/** @param {unknown} n */
const num = (n) => (isNum(n) && /** @type {number} */ (n) >= 0 ? /** @type {number} */ (n) : 0);
/** A percentage of the bar, clamped, as a CSS width. @param {number} part @param {number} whole */
export const pct = (part, whole) => `${(whole > 0 ? Math.min(100, Math.max(0, (part / whole) * 100)) : 0).toFixed(1)}%`;

/**
 * Everything one bar shows: filled part, highlighted segment (start, width), visible text and
 * the screen-reader text. Pure, so it is tested without a DOM.
 * @param {"disk" | "ram"} kind @param {Record<string, any>} b the budget trait
 * @param {Row | null} row the hovered / focused / selected row (local rows only)
 * @param {Freeing | null} [free] a pending deletion: its segment instead of the row's share
 */
export function gauge(kind, b, row, free = null) {
  const disk = kind === "disk";
  const used = num(disk ? b.disk_used : b.ram_used);
  const models = num(disk ? b.disk_models : b.ram_models);
  const unknownModels = num(disk ? b.disk_unknown : b.ram_unknown);
  const whole = disk ? num(b.disk_catalog) : isNum(b.usable) ? num(b.usable) : null;
  const r = row && !row.cloud && !free ? row : null;
  const share = free ? Math.min(num(free.bytes), used) : r ? (disk ? r.bytes : r.ram) : null;
  const has = isNum(share) && /** @type {number} */ (share) > 0;
  const inside = Boolean(free) || Boolean(r && (disk ? r.downloaded || r.state === "downloaded" || r.state === "loaded" : r.loaded || r.state === "loaded"));
  const amount = has ? /** @type {number} */ (share) : 0;
  const start = inside ? Math.max(0, used - amount) : used;
  const over = whole !== null && !inside && has && used + amount > whole;
  const fmt = (/** @type {number} */ n) => formatBytes(n) || "0 B";
  let label = disk
    ? `Disk: ${fmt(used)} used by ${plural(models, "downloaded model")}${whole ? ` of ${fmt(whole)} for all local models` : ""}`
    : `RAM: ${fmt(used)} used by ${plural(models, "loaded model")}${whole !== null ? ` of ${fmt(whole)} usable` : "; usable memory unknown"}`;
  if (unknownModels) label += ` (${unknownModels} without a ${disk ? "size" : "RAM figure"})`;
  if (free && has) label += `. ${free.what} will free ${fmt(num(free.bytes))}`;
  else if (r && has) {
    const name = str(r.name) || str(r.unique) || r.id;
    label += disk
      ? `. ${name}: ${fmt(amount)}${inside ? " on disk" : " to download"}`
      : `. ${name}: ${inside ? `holds ${fmt(amount)}` : `loading it would add ${fmt(amount)}`}${over ? ", more than is free" : ""}`;
  }
  return {
    used: whole !== null ? pct(Math.min(used, whole), whole) : "0.0%",
    start: whole !== null ? pct(start, whole) : "0.0%",
    width: whole !== null && has ? pct(Math.min(amount, Math.max(0, whole - start)), whole) : "0.0%",
    highlight: whole !== null && has,
    over,
    unknown: whole === null,
    text: `${fmt(used)} / ${whole !== null ? fmt(whole) : "unknown"}`,
    plus: free && has ? `\u2212${fmt(num(free.bytes))}` : has && !inside ? `+${fmt(amount)}` : "",
    free: Boolean(free && has),
    label: `${label}.`,
  };
}

export class BudgetBars {
  /** @param {Make} e */
  constructor(e) {
    /** @type {Record<string, {node: HTMLElement, fill: HTMLElement, hl: HTMLElement, text: HTMLElement, plus: HTMLElement}>} */
    this.bars = {};
    for (const [kind, name] of [["disk", "Disk"], ["ram", "RAM"]]) {
      const fill = e("span", { class: "pmm-gauge-used" });
      const hl = e("span", { class: "pmm-gauge-hl", hidden: true });
      const text = e("span", { class: "pmm-gauge-text" });
      const plus = e("span", { class: "pmm-gauge-plus" });
      const node = e("div", { class: "pmm-gauge", "data-gauge": kind, role: "img" },
        e("span", { class: "pmm-gauge-name", text: name }), e("span", { class: "pmm-gauge-bar" }, fill, hl), text, plus);
      this.bars[kind] = { node, fill, hl, text, plus };
    }
    this.node = e("div", { class: "pmm-budget", hidden: true }, this.bars.disk.node, this.bars.ram.node);
  }

  /**
   * @param {Record<string, any>} budget the trait @param {Row | null} row hovered / focused / selected
   * @param {Freeing | null} [free] a pending deletion, shown on the disk bar (then no row share)
   */
  render(budget, row, free = null) {
    const known = Object.keys(budget).length > 0;
    this.node.hidden = !known;
    if (!known) return;
    const note = str(budget.note);
    for (const kind of /** @type {("disk" | "ram")[]} */ (["disk", "ram"])) {
      const g = kind === "disk" ? gauge(kind, budget, row, free) : gauge(kind, budget, free ? null : row);
      const bar = this.bars[kind];
      setAttr(bar.node, "aria-label", g.label);
      setAttr(bar.node, "title", note ? `${g.label}\n${note}` : g.label);
      setAttr(bar.node, "data-unknown", g.unknown ? "true" : null);
      setAttr(bar.node, "data-over", g.over ? "true" : null);
      setAttr(bar.node, "data-free", g.free ? "true" : null);
      if (bar.fill.style.width !== g.used) bar.fill.style.width = g.used;
      if (bar.hl.hidden === g.highlight) bar.hl.hidden = !g.highlight;
      if (g.highlight) {
        bar.hl.style.left = g.start;
        bar.hl.style.width = g.width;
      }
      setText(bar.text, g.text);
      setText(bar.plus, g.plus);
    }
  }
}
