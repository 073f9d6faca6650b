// Everything the view sends to Python (lonboard's python-sync.ts, in small): trait writes, the
// debounced search write, and action messages, which must name one of WIRE_ACTIONS.
import { WIRE_ACTIONS } from "./actions.js";
import { str } from "./state.js";

const WIRE = new Set(WIRE_ACTIONS);

/**
 * @param {{get(key: string): any, set(key: string, value: any): void, save_changes(): void, send(msg: any): void}} model
 * @param {{setTimeout: (fn: () => void, ms: number) => any, clearTimeout: (t: any) => void}} timers
 * @param {number} searchDebounceMs
 */
export function createSync(model, timers, searchDebounceMs) {
  /** @type {any} */ let searchTimer = null;
  let pendingSearch = "";

  /**
   * Send an action to Python. An unknown name is a programming error: it throws (a unit test
   * drives every button through here), instead of sending something Python would reject.
   * @param {string} action @param {Record<string, any>} [extra]
   */
  function send(action, extra) {
    if (!WIRE.has(action)) throw new Error(`pieces-widgets: "${action}" is not in WIRE_ACTIONS`);
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

  /** Write the search trait now (if it differs), dropping a pending debounced write. @param {string} value */
  function flushSearch(value) {
    if (searchTimer !== null) {
      timers.clearTimeout(searchTimer);
      searchTimer = null;
    }
    if (str(model.get("search")) !== value) writeTrait("search", value);
  }

  /** Write the search trait once typing pauses. @param {string} value */
  function queueSearch(value) {
    pendingSearch = value;
    if (searchTimer !== null) timers.clearTimeout(searchTimer);
    searchTimer = timers.setTimeout(() => {
      searchTimer = null;
      flushSearch(pendingSearch);
    }, searchDebounceMs);
  }

  return {
    send,
    writeTrait,
    flushSearch,
    queueSearch,
    /** Is a search write pending (the user is typing)? */
    typing: () => searchTimer !== null,
    /** Keep the user's last keystrokes: write a pending search before going away. */
    destroy() {
      if (searchTimer !== null) flushSearch(pendingSearch);
    },
  };
}
