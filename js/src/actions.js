// Pure: which actions a row offers, by state (shared/guides/product.md, "Actions by state").

/** @typedef {import("./table.js").Row} Row */

/** Row actions in display order, with their button labels. */
export const ACTION_LABELS = {
  download: "Download",
  cancel: "Cancel",
  load: "Load",
  unload: "Unload",
  "delete-cache": "Delete cache",
  edit: "Edit",
  delete: "Delete",
};

/** Actions that need an in-widget confirmation first. */
export const CONFIRM_ACTIONS = new Set(["delete", "delete-cache"]);

/**
 * Every action name the frontend sends as `{type: "action", action, ...}`: the contract with the
 * Python side (a Python test parses this literal, and sync.js refuses to send anything else).
 */
export const WIRE_ACTIONS = ["refresh", "retry", "download", "cancel", "load", "unload", "delete", "delete-cache", "unload-all", "create", "update", "dismiss-error", "install-runtime", "update-runtime", "plan-cleanup"];

/** Button style of row actions that are not neutral. */
export const ACTION_VARIANTS = { download: "accent", load: "accent", delete: "danger", "delete-cache": "danger" };

/** Row actions of a local model that need the local runtime (Ollama): unavailable while the
 * `runtime` trait's `blocks` says why. */
export const GATED = new Set(["download", "load"]);

/** Busy values during which the Cancel button stays usable (a download running or queued). */
export const CANCELLABLE_BUSY = new Set(["download", "downloading", "queued"]);

/**
 * Actions a row offers. cloud: none (no download/load/unload); available: download;
 * downloading: cancel; downloaded: load + delete-cache; loaded: unload; custom adds edit + delete.
 * An unknown state offers only the custom actions. A row busy downloading or queued offers
 * Cancel (instead of Download) so a queued download can be called off.
 * @param {Row} row
 * @param {string | null | undefined} [busy] the row's busy entry
 * @returns {string[]}
 */
export function actionsFor(row, busy) {
  /** @type {string[]} */
  let out;
  switch (row.state) {
    case "available":
      out = ["download"];
      break;
    case "downloading":
      out = ["cancel"];
      break;
    case "downloaded":
      out = ["load", "delete-cache"];
      break;
    case "loaded":
      out = ["unload"];
      break;
    default: // "cloud" and unknown states
      out = [];
  }
  if (busy && CANCELLABLE_BUSY.has(busy) && row.state !== "cloud") {
    out = out.filter((a) => a !== "download");
    if (!out.includes("cancel")) out.unshift("cancel");
  }
  if (row.custom) out.push("edit", "delete");
  return out;
}

/**
 * Is this action's button enabled while the row has this busy entry?
 * Everything is disabled while busy, except Cancel during a running or queued download.
 * @param {string} action @param {string | null | undefined} busy
 */
export function actionEnabled(action, busy) {
  if (!busy) return true;
  return action === "cancel" && CANCELLABLE_BUSY.has(busy);
}

const BUSY_LABELS = {
  download: "Downloading…",
  downloading: "Downloading…",
  queued: "Queued",
  cancel: "Cancelling…",
  load: "Loading…",
  unload: "Unloading…",
  "unload-all": "Unloading…",
  unload_all: "Unloading…",
  delete: "Deleting…",
  "delete-cache": "Deleting cache…",
  delete_cache: "Deleting cache…",
  update: "Saving…",
  edit: "Saving…",
  refresh: "Refreshing…",
};

/**
 * Human text for a busy entry ("load" -> "Loading…"); unknown values as they came.
 * @param {string | null | undefined} busy
 */
export function busyLabel(busy) {
  if (!busy) return "";
  return Object.prototype.hasOwnProperty.call(BUSY_LABELS, busy)
    ? BUSY_LABELS[/** @type {keyof typeof BUSY_LABELS} */ (busy)]
    : `${busy}…`;
}

/**
 * The confirmation question for a destructive action.
 * @param {string} action @param {Row} row @param {string} [size] formatted size, if known
 */
export function confirmText(action, row, size) {
  const name = row.name || row.unique || row.id;
  if (action === "delete") return `Delete the custom model “${name}” from Pieces OS?`;
  return size
    ? `Delete the files of “${name}” (${size})? A new download starts from zero.`
    : `Delete the files of “${name}”? A new download starts from zero.`;
}
