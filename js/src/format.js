// Pure formatting helpers (no DOM). Units are decimal (1 GB = 1e9 bytes) to match the
// `readable` strings Pieces OS sends: "775.9 MB", "4.69 GB", "26.44 GB".

/** @param {unknown} v @returns {v is number} */
export function isNum(v) {
  return typeof v === "number" && Number.isFinite(v);
}

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];
// Decimals per unit, as the server writes them: MB with one, GB and up with two.
const BYTE_DECIMALS = [0, 1, 1, 2, 2, 2];

/**
 * Bytes as a decimal-unit string: 4692669824 -> "4.69 GB", 775946240 -> "775.9 MB".
 * @param {number | null | undefined} bytes
 * @returns {string} "" when unknown
 */
export function formatBytes(bytes) {
  if (!isNum(bytes) || bytes < 0) return "";
  let unit = 0;
  let value = bytes;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  let text = value.toFixed(BYTE_DECIMALS[unit]);
  // 999.96 MB rounds to "1000.0": move up a unit.
  if (Number(text) >= 1000 && unit < BYTE_UNITS.length - 1) {
    unit += 1;
    text = (value / 1000).toFixed(BYTE_DECIMALS[unit]);
  }
  return `${text} ${BYTE_UNITS[unit]}`;
}

/**
 * Transfer speed: 4.6e6 -> "4.6 MB/s" (one decimal above bytes).
 * @param {number | null | undefined} bytesPerSecond
 */
export function formatSpeed(bytesPerSecond) {
  if (!isNum(bytesPerSecond) || bytesPerSecond < 0) return "";
  let unit = 0;
  let value = bytesPerSecond;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  let text = unit === 0 ? String(Math.round(value)) : value.toFixed(1);
  if (Number(text) >= 1000 && unit < BYTE_UNITS.length - 1) {
    unit += 1;
    text = (value / 1000).toFixed(1);
  }
  return `${text} ${BYTE_UNITS[unit]}/s`;
}

/**
 * Remaining time like Ollama: 236 -> "3m56s", 45 -> "45s", 3720 -> "1h02m".
 * @param {number | null | undefined} seconds
 */
export function formatEta(seconds) {
  if (!isNum(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(s / 3600);
  if (h >= 100) return `${h}h`;
  return `${h}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * "updated 5 s ago" from an age in seconds.
 * @param {number | null | undefined} ageSeconds
 */
export function formatAge(ageSeconds) {
  if (!isNum(ageSeconds)) return "";
  const s = Math.max(0, Math.floor(ageSeconds));
  if (s < 1) return "updated just now";
  if (s < 60) return `updated ${s} s ago`;
  if (s < 3600) return `updated ${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `updated ${Math.floor(s / 3600)} h ago`;
  return `updated ${Math.floor(s / 86400)} d ago`;
}

/**
 * "updated N s ago" for a unix time in seconds (0 or missing = never).
 * @param {number | null | undefined} lastRefresh unix seconds
 * @param {number} nowMs Date.now()
 */
export function formatUpdated(lastRefresh, nowMs) {
  if (!isNum(lastRefresh) || lastRefresh <= 0) return "not updated yet";
  return formatAge(nowMs / 1000 - lastRefresh);
}

/** Up to three significant digits without trailing zeros: 9.24, 46.7, 8. */
function sig3(v) {
  return String(Number(v.toPrecision(3)));
}

/**
 * Parameters, given in billions: 9.24 -> "9.24B", 8 -> "8B", 0.0076 -> "7.6M", 1500 -> "1.5T".
 * @param {number | null | undefined} billions
 */
export function formatParameters(billions) {
  if (!isNum(billions) || billions < 0) return "";
  if (billions === 0) return "0";
  if (billions >= 1000) return `${sig3(billions / 1000)}T`;
  if (billions >= 1) return `${sig3(billions)}B`;
  if (billions >= 0.001) return `${sig3(billions * 1000)}M`;
  return `${sig3(billions * 1e6)}K`;
}

/**
 * Context length: round decimal values stay decimal (128000 -> "128K", 200000 -> "200K"), multiples
 * of 1024 the way people say them (131072 -> "128K", 2097152 -> "2M"), anything else with three
 * significant digits (1047576 -> "1.05M", 16385 -> "16.4K").
 * @param {number | null | undefined} tokens
 */
export function formatTokens(tokens) {
  if (!isNum(tokens) || tokens < 0) return "";
  const n = Math.round(tokens);
  if (n < 1000) return String(n);
  if (n % 1000 !== 0) {
    if (n % 1048576 === 0) return `${n / 1048576}M`;
    if (n % 1024 === 0 && n < 1048576) return `${n / 1024}K`;
  }
  if (n < 1e6) return `${sig3(n / 1000)}K`;
  return `${sig3(n / 1e6)}M`;
}

/**
 * Integer with thousands separators (for titles): 131072 -> "131,072".
 * @param {number | null | undefined} n
 */
export function formatInteger(n) {
  if (!isNum(n)) return "";
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Percent text for a 0-100 value: floors so 99.7 never reads "100%" before completion.
 * @param {number | null | undefined} percent
 */
export function formatPercent(percent) {
  if (!isNum(percent)) return "";
  return `${Math.floor(Math.min(100, Math.max(0, percent)))}%`;
}

/** Plural helper: plural(1, "model") -> "1 model", plural(2, "model") -> "2 models". */
export function plural(n, word, many = `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}
