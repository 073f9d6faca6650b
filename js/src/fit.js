// Will it fit? The Download / Load confirmation asked when a local model's fit answer is
// "too-large" or "unload" (the fit cell's text and the "fits" chip are in table.js). Pure.

/** @typedef {import("./table.js").Row} Row */

/** Fit answers that make Download and Load ask first. */
const ASK = new Set(["too-large", "unload"]);

/** Does this action on this row ask to confirm because of the fit? @param {string} action @param {Row} row */
export function needsFitConfirm(action, row) {
  return (action === "download" || action === "load") && !row.cloud && ASK.has(String(row.fit));
}

/** The ids to unload first (only for fit "unload"). @param {Row} row @returns {string[]} */
export function unloadIds(row) {
  return row.fit === "unload" && Array.isArray(row.fit_unload) ? row.fit_unload.map(String) : [];
}

/**
 * What the fit confirmation says and offers: the fit text (needed vs available, what to
 * unload), "<Verb> anyway", and for "unload" the one-click "Unload N and <verb>".
 * @param {string} action "download" | "load" @param {Row} row
 * @returns {{text: string, yes: string, alt: string}} alt is "" when there is nothing to unload
 */
export function fitConfirm(action, row) {
  const verb = action === "load" ? "load" : "download";
  const name = row.name || row.unique || row.id;
  const n = unloadIds(row).length;
  const models = `${n} model${n === 1 ? "" : "s"}`;
  const fallback = row.fit === "too-large"
    ? `“${name}” needs more memory than this machine can give a model.`
    : `“${name}” fits only after unloading ${n ? models : "loaded models"}.`;
  const text = row.fit_text ? String(row.fit_text) : fallback;
  return { text, yes: `${verb[0].toUpperCase()}${verb.slice(1)} anyway`, alt: n ? `Unload ${n} and ${verb}` : "" };
}
