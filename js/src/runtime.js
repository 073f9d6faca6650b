// The local runtime (Ollama) badge beside the connection badge, from the `runtime` trait (a
// bordered pill, then its button and error line):
// "Runtime 0.6.5", "Runtime missing" + Install, "Update required" + Update, "Installing 42 %"
// with a small progress bar, an error line + Retry, "Runtime unknown" (muted).
import { setAttr, setText } from "./dom.js";
import { isNum } from "./format.js";
import { str } from "./state.js";

/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */

/**
 * What the badge says and offers. Pure.
 * @param {Record<string, any>} rt the runtime trait
 * @returns {{state: string, label: string, button: string, action: string, percent: number | null, error: string}}
 *   action: the wire action of the button ("" when none)
 */
export function runtimeView(rt) {
  const state = str(rt.state);
  const version = str(rt.version);
  const p = isNum(rt.percentage) ? Math.max(0, Math.min(100, Math.round(/** @type {number} */ (rt.percentage)))) : null;
  const error = str(rt.error);
  const updating = state === "update-required" || state === "updating";
  const retry = error && state !== "installing" && state !== "updating" && state !== "installed";
  /** @type {Record<string, [string, string, string]>} label, button, action */
  const by = {
    installed: [version ? `Runtime ${version}` : "Runtime installed", "", ""],
    missing: ["Runtime missing", "Install", "install-runtime"],
    "update-required": ["Update required", "Update", "update-runtime"],
    installing: [p !== null ? `Installing ${p} %` : "Installing…", "", ""],
    updating: [p !== null ? `Updating ${p} %` : "Updating…", "", ""],
  };
  const [label, button, action] = by[state] || ["Runtime unknown", "", ""];
  return {
    state: by[state] ? state : "unknown",
    label,
    button: retry ? "Retry" : button,
    action: retry ? (updating ? "update-runtime" : "install-runtime") : action,
    percent: state === "installing" || state === "updating" ? p : null,
    error,
  };
}

export class RuntimeBadge {
  /** @param {Make} e */
  constructor(e) {
    this.label = e("span", { class: "pmm-runtime-label" });
    this.fill = e("span", { class: "pmm-fill" });
    this.bar = e("span", { class: "pmm-bar pmm-runtime-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": "Runtime install progress", hidden: true }, this.fill);
    this.button = e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "runtime", hidden: true });
    this.error = e("span", { class: "pmm-runtime-error", hidden: true });
    this.node = e("span", { class: "pmm-runtime", "data-runtime": "unknown", hidden: true },
      e("span", { class: "pmm-runtime-pill" }, e("span", { class: "pmm-runtime-dot", "aria-hidden": "true" }), this.label, this.bar), this.button, this.error);
    this.action = "";
  }

  /** @param {Record<string, any>} rt the runtime trait ({} before Python knows: hidden) */
  render(rt) {
    this.node.hidden = Object.keys(rt).length === 0;
    const v = runtimeView(rt);
    this.action = v.action;
    setAttr(this.node, "data-runtime", v.state);
    setText(this.label, v.label);
    setAttr(this.node, "title", `Local model runtime (Ollama): ${v.label}${str(rt.blocks) ? `. ${str(rt.blocks)}` : ""}`);
    this.bar.hidden = v.percent === null;
    if (v.percent !== null) {
      setAttr(this.bar, "aria-valuenow", String(v.percent));
      setAttr(this.bar, "aria-label", v.state === "updating" ? "Runtime update progress" : "Runtime install progress");
      this.fill.style.transform = `scaleX(${(v.percent / 100).toFixed(3)})`;
    }
    this.button.hidden = !v.button;
    setText(this.button, v.button);
    setAttr(this.button, "aria-label", v.button ? `${v.button} the local runtime (Ollama)` : null);
    this.error.hidden = !v.error;
    setText(this.error, v.error);
    setAttr(this.error, "title", v.error || null);
    setAttr(this.node, "data-error", v.error ? "true" : null);
  }
}
