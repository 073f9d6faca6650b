// The fake anywidget model of the harness page (js/test/helpers.js's, logging what is sent),
// plus the wire -> compact row conversion the Python side does (pieces_widgets/rows.py).

import { FakeModel as TestModel } from "../test/helpers.js";

/** The unit tests' fake model, which also logs what the widget sends. */
export class FakeModel extends TestModel {
  send(msg) {
    super.send(msg);
    console.log("model.send", JSON.stringify(msg));
  }
}

/** Wire model (GET /models) -> the compact row of docs/architecture.md. */
export function toRow(m) {
  const state = m.cloud ? "cloud" : m.downloading ? "downloading" : m.loaded ? "loaded" : m.downloaded ? "downloaded" : "available";
  return {
    id: m.id,
    name: m.name ?? null,
    unique: m.unique ?? null,
    provider: m.provider ?? null,
    foundation: m.foundation ?? null,
    cloud: Boolean(m.cloud),
    downloaded: Boolean(m.downloaded),
    downloading: Boolean(m.downloading),
    loaded: Boolean(m.loaded),
    custom: Boolean(m.custom),
    cpu: Boolean(m.cpu),
    bytes: m.bytes?.value ?? null,
    ram: m.ram?.value ?? null,
    parameters: m.parameters ?? null,
    quantization: m.quantization ?? null,
    max_tokens: m.maxTokens?.total ?? null,
    version: m.version ?? null,
    type: m.type ?? null,
    usage: m.usage ?? null,
    description: m.description ?? null,
    state,
  };
}

/** A synthetic catalogue of n rows (for performance checks). */
export function syntheticRows(n, seed = 1) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const families = ["Llama", "Mistral", "Gemma", "Phi", "Qwen", "DeepSeek", "Granite", "Claude", "GPT"];
  const providers = ["META", "MISTRAL", "GOOGLE", "MICROSOFT", null, "IBM", "ANTHROPIC", "OPENAI"];
  const states = ["cloud", "available", "available", "downloaded", "loaded", "available", "downloaded"];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const fam = families[Math.floor(rand() * families.length)];
    const state = states[Math.floor(rand() * states.length)];
    const cloud = state === "cloud";
    const params = Math.round(rand() * 700) / 10 + 0.5;
    rows.push({
      id: `m-${i.toString(36).padStart(5, "0")}`,
      name: `${fam} ${params}B variant ${i}`,
      unique: `${fam.toLowerCase()}:${params}b-v${i}-q4_K_M`,
      provider: providers[Math.floor(rand() * providers.length)],
      foundation: `${fam.toUpperCase()}_${Math.floor(rand() * 4) + 1}`,
      cloud,
      downloaded: state === "downloaded" || state === "loaded",
      downloading: false,
      loaded: state === "loaded",
      custom: rand() < 0.05,
      cpu: false,
      bytes: cloud ? null : Math.round(params * 0.6e9 * (0.8 + rand() * 0.4)),
      ram: cloud ? null : Math.round(params * 0.9e9),
      parameters: cloud ? null : params,
      quantization: cloud ? null : rand() < 0.5 ? "q4_K_M" : "q4_K_S",
      max_tokens: [4096, 8192, 32768, 131072, 200000][Math.floor(rand() * 5)],
      version: "1.0",
      type: "BALANCED",
      usage: "CODE_CONVERSATION",
      description: `Synthetic model number ${i} of the ${fam} family.`,
      state,
    });
  }
  return rows;
}

const GB = 1e9;
const fmtGB = (n) => `${(n / GB).toFixed(1)} GB`;

/**
 * Issue 11's figures as the Python side computes them (pieces_widgets/fit.py), roughly, for
 * looking at the UI: each local row's fit on a machine of `total` bytes (usable = total x
 * fraction), how often it was used, and the budget trait.
 */
export function withFit(rows, total = 16 * GB, fraction = 0.8) {
  const usable = total * fraction;
  const loaded = rows.filter((r) => r.loaded && !r.cloud);
  const ramUsed = loaded.reduce((s, r) => s + (r.ram || 0), 0);
  const free = usable - ramUsed;
  const out = rows.map((r, i) => {
    if (r.cloud) return { ...r, fit: null, fit_text: null, fit_unload: [], used: null };
    const used = (i * 7) % 11;
    if (r.ram == null) return { ...r, fit: "unknown", fit_text: "No RAM figure for this model: cannot tell whether it fits.", fit_unload: [], used };
    if (r.loaded || r.ram <= free) return { ...r, fit: "fits", fit_text: `Needs ${fmtGB(r.ram)} of RAM; ${fmtGB(free)} of ${fmtGB(usable)} usable is free.`, fit_unload: [], used };
    if (r.ram > usable) return { ...r, fit: "too-large", fit_text: `Needs ${fmtGB(r.ram)} of RAM; this machine can give a model at most ${fmtGB(usable)}.`, fit_unload: [], used };
    const unload = [];
    let room = free;
    for (const m of [...loaded].sort((a, b) => (b.ram || 0) - (a.ram || 0))) {
      if (room >= r.ram) break;
      unload.push(m);
      room += m.ram || 0;
    }
    return { ...r, fit: "unload", fit_text: `Needs ${fmtGB(r.ram)} of RAM; ${fmtGB(free)} is free: unload ${unload.map((m) => m.name).join(", ")} first.`, fit_unload: unload.map((m) => m.id), used };
  });
  const local = out.filter((r) => !r.cloud);
  const onDisk = local.filter((r) => r.downloaded);
  const budget = {
    disk_used: onDisk.reduce((s, r) => s + (r.bytes || 0), 0), disk_models: onDisk.length, disk_unknown: onDisk.filter((r) => r.bytes == null).length,
    disk_catalog: local.reduce((s, r) => s + (r.bytes || 0), 0),
    ram_used: ramUsed, ram_models: loaded.length, ram_unknown: 0, usable, total, source: "server",
    note: `Machine memory ${fmtGB(total)} (from Pieces OS); a model may use ${Math.round(fraction * 100)} % of it.`,
  };
  return { rows: out, budget };
}

/** The cleanup trait for a request to free `free` ("10 GB" or bytes), as cleanup.py plans it. */
export function planCleanup(rows, free, seq) {
  const m = /^\s*([\d.]+)\s*(k|m|g|t)?b?\s*$/i.exec(String(free));
  const want = m ? Number(m[1]) * { k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[(m[2] || "").toLowerCase()] || Number(m[1]) : 0;
  const cands = rows.filter((r) => !r.cloud && r.downloaded && !r.loaded && !r.downloading)
    .sort((a, b) => (a.used || 0) - (b.used || 0) || (b.bytes || 0) - (a.bytes || 0));
  const plan = [];
  let freed = 0;
  for (const r of cands) {
    if (freed >= want) break;
    freed += r.bytes || 0;
    plan.push({ id: r.id, name: r.name, bytes: r.bytes, used: r.used, freed });
  }
  return { seq, free: want, rows: plan, total: freed, enough: freed >= want };
}
