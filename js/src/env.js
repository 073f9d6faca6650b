// The view's environment: the document, clocks and timers (injectable so that tests are
// deterministic) and the element builder bound to that document.
import { h } from "./dom.js";

/**
 * The part of the anywidget model API this view uses.
 * @typedef {{
 *   get(key: string): any, set(key: string, value: any): void,
 *   on(event: string, cb: (...a: any[]) => void): void, off(event?: string | null, cb?: ((...a: any[]) => void) | null): void,
 *   save_changes(): void, send(msg: any): void
 * }} Model
 */

/**
 * Clocks and timers, injectable so that tests are deterministic.
 * @typedef {{
 *   now?: () => number,
 *   setTimeout?: (fn: () => void, ms: number) => any, clearTimeout?: (t: any) => void,
 *   setInterval?: (fn: () => void, ms: number) => any, clearInterval?: (t: any) => void,
 *   requestAnimationFrame?: (fn: () => void) => any, cancelAnimationFrame?: (id: any) => void,
 *   searchDebounceMs?: number, infoNoticeMs?: number
 * }} ViewOptions
 */

/** @param {HTMLElement} el @param {ViewOptions} o */
export function makeEnv(el, o) {
  const doc = el.ownerDocument;
  const host = /** @type {any} */ (doc.defaultView) || globalThis;
  const setTimeout = o.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms));
  const clearTimeout = o.clearTimeout || ((t) => globalThis.clearTimeout(t));
  return {
    doc,
    now: o.now || (() => Date.now()),
    setTimeout,
    clearTimeout,
    setInterval: o.setInterval || ((fn, ms) => globalThis.setInterval(fn, ms)),
    clearInterval: o.clearInterval || ((t) => globalThis.clearInterval(t)),
    raf: o.requestAnimationFrame || (typeof host.requestAnimationFrame === "function" ? (fn) => host.requestAnimationFrame(fn) : (fn) => setTimeout(fn, 16)),
    cancelRaf: o.cancelAnimationFrame || (typeof host.cancelAnimationFrame === "function" ? (id) => host.cancelAnimationFrame(id) : clearTimeout),
    /** @type {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} */
    e: (tag, attrs, ...kids) => h(doc, tag, attrs, ...kids),
  };
}
