// Pure progress maths and text for one download (no DOM).
import { formatBytes, formatEta, formatPercent, formatSpeed, isNum } from "./format.js";

/**
 * A `progress` trait entry (docs/architecture.md).
 * @typedef {{status?: string|null, percentage?: number|null, bytes_done?: number|null,
 *   bytes_total?: number|null, speed?: number|null, eta?: number|null, stalled?: boolean|null,
 *   terminal?: boolean|null}} Progress
 */

/**
 * @typedef {{
 *   known: boolean, percent: number, valuenow: number, label: string, bytesDone: number|null,
 *   bytesTotal: number|null, bytes: string, speed: string, eta: string, stalled: boolean,
 *   status: string, terminal: boolean, detail: string, valuetext: string
 * }} ProgressView
 */

const PROGRESS_FIELDS = [
  "status",
  "percentage",
  "bytes_done",
  "bytes_total",
  "speed",
  "eta",
  "stalled",
  "terminal",
];

/** Terminal statuses of the progress socket. */
export const TERMINAL_STATUSES = new Set(["COMPLETED", "FAILED", "CANCELED", "CANCELLED", "RESET"]);

/** @param {number} v */
function clampPercent(v) {
  return Math.min(100, Math.max(0, v));
}

/**
 * Shallow equality of two progress entries (trait values arrive as fresh objects every sync).
 * @param {Progress | null | undefined} a @param {Progress | null | undefined} b
 */
export function sameProgress(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  for (const k of PROGRESS_FIELDS) {
    if (/** @type {any} */ (a)[k] !== /** @type {any} */ (b)[k]) return false;
  }
  return true;
}

/**
 * Ids whose progress entry changed between two `progress` trait values.
 * @param {Record<string, Progress> | null | undefined} before
 * @param {Record<string, Progress> | null | undefined} after
 * @returns {string[]}
 */
export function changedProgressIds(before, after) {
  const a = before || {};
  const b = after || {};
  /** @type {string[]} */
  const out = [];
  for (const id of Object.keys(b)) if (!sameProgress(a[id], b[id])) out.push(id);
  for (const id of Object.keys(a)) if (!(id in b)) out.push(id);
  return out;
}

/** @param {Progress | null | undefined} p */
export function isTerminal(p) {
  if (!p) return false;
  return Boolean(p.terminal) || TERMINAL_STATUSES.has(String(p.status || "").toUpperCase());
}

/**
 * Everything the row shows for a download: percent (0-100, for aria-valuenow), bytes done /
 * total (derived from percentage x model size when the entry lacks them), speed, ETA, stalled.
 * @param {Progress | null | undefined} p
 * @param {number | null | undefined} [modelBytes] the row's size, used when bytes_total is missing
 * @returns {ProgressView}
 */
export function progressView(p, modelBytes) {
  const e = p || {};
  const status = String(e.status || "");
  const terminal = isTerminal(e);
  const total = isNum(e.bytes_total) && e.bytes_total > 0 ? e.bytes_total : isNum(modelBytes) && modelBytes > 0 ? modelBytes : null;
  let percent = null;
  if (isNum(e.percentage)) percent = clampPercent(e.percentage);
  else if (isNum(e.bytes_done) && total) percent = clampPercent((e.bytes_done / total) * 100);
  if (status.toUpperCase() === "COMPLETED") percent = 100;
  const known = percent !== null;
  const pct = known ? /** @type {number} */ (percent) : 0;
  let done = isNum(e.bytes_done) ? e.bytes_done : known && total ? Math.round((total * pct) / 100) : null;
  if (done !== null && total !== null) done = Math.min(done, total);
  const stalled = Boolean(e.stalled) && !terminal;
  const bytes = done !== null && total !== null ? `${formatBytes(done)} / ${formatBytes(total)}` : total !== null ? formatBytes(total) : "";
  const speed = stalled ? "" : formatSpeed(e.speed);
  const eta = stalled || terminal ? "" : formatEta(e.eta);
  const label = known ? formatPercent(pct) : "starting";
  const detail = [bytes, speed, eta ? `${eta} left` : ""].filter(Boolean).join(" · ");
  const valuetext = [known ? formatPercent(pct) : "starting", bytes, speed, eta ? `${eta} left` : "", stalled ? "stalled" : ""]
    .filter(Boolean)
    .join(", ");
  return {
    known,
    percent: pct,
    valuenow: Math.floor(pct),
    label,
    bytesDone: done,
    bytesTotal: total,
    bytes,
    speed,
    eta,
    stalled,
    status,
    terminal,
    detail,
    valuetext,
  };
}

/**
 * The text of the State cell: "downloading 42%" while downloading, else the state as it came.
 * @param {string | null | undefined} state
 * @param {ProgressView | null} view progress of a running download, if any
 */
export function stateText(state, view) {
  if (view && !view.terminal && (state === "downloading" || state === "available" || !state)) {
    return view.known ? `downloading ${view.label}` : "downloading";
  }
  if (state === null || state === undefined || state === "") return "unknown";
  return String(state);
}

/**
 * An announcement for a download that just ended, or null.
 * @param {Progress | null | undefined} before @param {Progress | null | undefined} after
 * @param {string} name
 */
export function terminalAnnouncement(before, after, name) {
  if (!after || !isTerminal(after) || isTerminal(before)) return null;
  switch (String(after.status || "").toUpperCase()) {
    case "COMPLETED":
      return `Download finished: ${name}.`;
    case "FAILED":
      return `Download failed: ${name}.`;
    case "CANCELED":
    case "CANCELLED":
      return `Download cancelled: ${name}.`;
    default:
      return null;
  }
}
