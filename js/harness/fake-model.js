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
