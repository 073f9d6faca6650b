// The parts of a row that come and go (built on demand, not cloned with every row): the
// download progress block, the inline confirmation, the row's error line and the note saying
// why Download is unavailable. Server data reaches them only as text and attribute values.

import { confirmText } from "./actions.js";
import { setAttr, setText } from "./dom.js";
import { fitConfirm } from "./fit.js";
import { formatBytes, isNum } from "./format.js";

/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */

/** The progress block of the state cell. @param {Make} e */
export function buildProgress(e) {
  const fill = e("div", { class: "pmm-fill" });
  const bar = e("div", { class: "pmm-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
  const bytes = e("span", { class: "pmm-prog-bytes" });
  const rate = e("span", { class: "pmm-prog-rate" });
  const stalled = e("span", { class: "pmm-pill pmm-pill--stalled", text: "stalled", title: "No progress arrived for a while", hidden: true });
  const wrap = e("div", { class: "pmm-prog" }, bar, e("div", { class: "pmm-prog-line" }, bytes), e("div", { class: "pmm-prog-line" }, rate, stalled));
  return { wrap, bar, fill, bytes, rate, stalled };
}

/**
 * The inline confirmation of a destructive action, or of a Download / Load that will not fit
 * (then `alt` offers "Unload N and load" in one click).
 * @param {Make} e
 */
export function buildConfirm(e) {
  const text = e("span", { class: "pmm-confirm-text" });
  const alt = e("button", { type: "button", class: "pmm-btn pmm-btn--sm pmm-btn--primary", "data-action": "confirm-unload", hidden: true });
  const yes = e("button", { type: "button", class: "pmm-btn pmm-btn--sm pmm-btn--danger-solid", "data-action": "confirm" }, "Confirm");
  const no = e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "dismiss-confirm" }, "Cancel");
  const box = e("div", { class: "pmm-confirm", role: "group" }, text, e("div", { class: "pmm-confirm-buttons" }, alt, yes, no));
  return { box, text, alt, yes, no };
}

let noteSeq = 0;

/**
 * Why this row's Download is unavailable (the runtime is missing): a short visible line whose
 * id the disabled button names in aria-describedby.
 * @param {Make} e
 */
export function buildBlocked(e) {
  noteSeq += 1;
  return e("div", { class: "pmm-blocked", id: `pmm-blocked-${noteSeq}` });
}

/** The row's error line with its dismiss button. @param {Make} e */
export function buildError(e) {
  const text = e("span", { class: "pmm-row-error-text" });
  const dismiss = e("button", { type: "button", class: "pmm-icon-btn", "data-action": "dismiss-error", "aria-label": "Dismiss error", title: "Dismiss" }, "×");
  const box = e("div", { class: "pmm-row-error" }, text, dismiss);
  return { box, text };
}

/**
 * Fill the confirmation for this action: a fit question (Download / Load that may not fit) or
 * a destructive one (Delete, Delete cache).
 * @param {ReturnType<typeof buildConfirm>} c @param {string} confirm the pending action
 * @param {import("./table.js").Row} r @param {string} name
 */
export function fillConfirm(c, confirm, r, name) {
  setAttr(c.box, "data-confirm", confirm);
  if (confirm === "download" || confirm === "load") {
    const f = fitConfirm(confirm, r);
    setText(c.text, f.text);
    setAttr(c.box, "aria-label", `Confirm ${confirm}: ${name} may not fit in memory`);
    setText(c.yes, f.yes);
    setAttr(c.yes, "class", "pmm-btn pmm-btn--sm");
    setAttr(c.yes, "aria-label", `${f.yes}: ${name}`);
    setText(c.alt, f.alt);
    setAttr(c.alt, "aria-label", f.alt ? `${f.alt} ${name}` : null);
    c.alt.hidden = !f.alt;
  } else {
    const size = isNum(r.bytes) ? formatBytes(r.bytes) : "";
    setText(c.text, confirmText(confirm, r, size));
    setAttr(c.box, "aria-label", confirm === "delete" ? "Confirm delete" : "Confirm delete cache");
    setText(c.yes, "Confirm");
    setAttr(c.yes, "class", "pmm-btn pmm-btn--sm pmm-btn--danger-solid");
    setAttr(c.yes, "aria-label", `Confirm: ${confirm === "delete" ? "delete" : "delete cache of"} ${name}`);
    c.alt.hidden = true;
  }
}
