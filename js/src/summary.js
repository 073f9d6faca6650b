// Pure summary line: "N models, L local on disk totalling X, K loaded (about Y RAM)".
import { formatBytes, isNum, plural } from "./format.js";

/** @typedef {import("./table.js").Row} Row */

/**
 * @param {Row[]} rows
 * @returns {{total: number, local: number, cloud: number, onDisk: number, diskBytes: number,
 *   loaded: number, ramBytes: number}}
 */
export function summarize(rows) {
  let local = 0;
  let cloud = 0;
  let onDisk = 0;
  let diskBytes = 0;
  let loaded = 0;
  let ramBytes = 0;
  for (const r of rows) {
    if (r.cloud) cloud += 1;
    else local += 1;
    const isLoaded = Boolean(r.loaded) || r.state === "loaded";
    const isOnDisk = !r.cloud && (Boolean(r.downloaded) || r.state === "downloaded" || isLoaded);
    if (isOnDisk) {
      onDisk += 1;
      if (isNum(r.bytes)) diskBytes += r.bytes;
    }
    if (isLoaded) {
      loaded += 1;
      if (isNum(r.ram)) ramBytes += r.ram;
    }
  }
  return { total: rows.length, local, cloud, onDisk, diskBytes, loaded, ramBytes };
}

/**
 * The summary line text.
 * @param {Row[]} rows
 */
export function summaryText(rows) {
  const s = summarize(rows);
  const parts = [plural(s.total, "model")];
  parts.push(
    s.onDisk > 0
      ? `${s.onDisk} local on disk totalling ${formatBytes(s.diskBytes)}`
      : "none local on disk",
  );
  parts.push(
    s.loaded > 0
      ? `${s.loaded} loaded (about ${formatBytes(s.ramBytes)} RAM)`
      : "none loaded",
  );
  return parts.join(", ");
}
