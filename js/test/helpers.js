// Test helpers: a ~20-line fake anywidget model, fake timers, and a small compact-row catalogue.
import { WIRE_ACTIONS } from "../src/actions.js";

// The view's entry point. `npm run test:bundle` (PMM_BUNDLE=1) runs the view tests against the
// built bundle (pieces_widgets/static/widget.js) instead of js/src: the build renames internal
// property names (js/build.mjs, INTERNAL), and only a run on the bundle shows that it still works.
// The harness page (js/harness/fake-model.js) imports this file in a browser, where there is no
// `process` and the page loads the bundle itself: no entry point then.
const node = typeof process !== "undefined";
const entry = !node
  ? {}
  : process.env.PMM_BUNDLE
    ? await import("../../pieces_widgets/static/widget.js")
    : await import("../src/widget.js");
export const { createView, WINDOW_MIN } = entry;
export const widget = entry.default;

/** A fake anywidget model: get/set/on/off/save_changes/send; `set` fires `change:<key>`. */
export class FakeModel {
  constructor(state = {}) {
    this.state = { ...DEFAULT_STATE, ...structuredClone(state) };
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
    this.sent = [];
    this.saves = 0;
  }
  get(key) {
    return this.state[key];
  }
  set(key, value) {
    const changed = this.state[key] !== value;
    this.state[key] = value;
    if (changed) for (const cb of [...(this.handlers.get(`change:${key}`) || [])]) cb(this, value);
  }
  on(event, cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(cb);
  }
  off(event, cb) {
    if (!event) this.handlers.clear();
    else if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }
  save_changes() {
    this.saves += 1;
  }
  send(msg) {
    // Python accepts only WIRE_ACTIONS: any view test that sends another name fails here.
    if (msg && msg.type === "action" && !WIRE_ACTIONS.includes(msg.action)) throw new Error(`unknown action sent: ${msg.action}`);
    this.sent.push(msg);
  }
  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

export const DEFAULT_STATE = {
  models: [],
  progress: {},
  busy: {},
  errors: {},
  connection: "connected",
  server: { url: "http://127.0.0.1:39300", version: "12.3.4", emulated: false, tried: [], message: "", retry_in: null },
  last_refresh: 0,
  notice: {},
  sort: {},
  filter: "all",
  search: "",
  selection: [],
  budget: {},
  runtime: {},
  cleanup: {},
};

/** Fit answers (issue 11) on the small catalogue: one of each kind, cloud without. */
export const FITS = {
  "l32-3b": ["fits", "Needs 3.22 GB of RAM; it is loaded."],
  "l32-1b": ["fits", "Needs 1.61 GB of RAM; 9.58 GB of 12.80 GB usable is free."],
  "l3-8b": ["unload", "Needs 6.44 GB of RAM; 3.00 GB is free: unload Llama 3.2 3B first."],
  phi3: ["fits", "Needs 3.76 GB of RAM; 9.58 GB of 12.80 GB usable is free."],
  mistral: ["too-large", "Needs 6.44 GB of RAM; this machine can give a model at most 4.00 GB."],
  team: ["unknown", "No RAM figure for this machine."],
  weird: ["unknown", "No RAM figure for this model."],
};

/** The small catalogue with fit, fit_text, fit_unload and used filled in. */
export function fitted() {
  return catalogue().map((r, i) => {
    const f = FITS[r.id];
    return { ...r, fit: f ? f[0] : null, fit_text: f ? f[1] : null, fit_unload: r.id === "l3-8b" ? ["l32-3b"] : [], used: r.cloud ? null : i };
  });
}

/** Deterministic timers and clock for the view (pass as createView options). */
export function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  let nextId = 1;
  /** @type {Map<number, {fn: Function, at: number, every: number}>} */
  const timers = new Map();
  return {
    now: () => t,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { fn, at: t + ms, every: 0 });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    setInterval(fn, ms) {
      const id = nextId++;
      timers.set(id, { fn, at: t + ms, every: ms });
      return id;
    },
    clearInterval(id) {
      timers.delete(id);
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        let due = null;
        for (const [id, timer] of timers) if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
        if (!due) break;
        const [id, timer] = due;
        t = timer.at;
        if (timer.every) timer.at += timer.every;
        else timers.delete(id);
        timer.fn();
      }
      t = end;
    },
    pending: () => timers.size,
  };
}

/** @param {Partial<import("../src/table.js").Row> & {id: string}} r */
export function row(r) {
  return {
    name: null, unique: null, provider: null, foundation: null, cloud: false, downloaded: false,
    downloading: false, loaded: false, custom: false, cpu: false, bytes: null, ram: null,
    parameters: null, quantization: null, max_tokens: null, version: "1", type: "BALANCED",
    usage: "CODE_CONVERSATION", description: null, state: "available", ...r,
  };
}

/** A small catalogue covering every state, a custom model, nulls and an unknown state. */
export function catalogue() {
  return [
    row({ id: "gpt4o", name: "GPT-4o Chat Model", unique: "gpt-4o", provider: "OPENAI", foundation: "GPT_4", cloud: true, max_tokens: 128000, state: "cloud", description: "High-output GPT-4 variant" }),
    row({ id: "l32-3b", name: "Llama 3.2 3B", unique: "llama3.2:3b-instruct-q4_K_S", provider: "META", foundation: "LLAMA_LATEST", downloaded: true, loaded: true, bytes: 1928429824, ram: 3221225472, parameters: 3.2, quantization: "q4_K_S", max_tokens: 131072, state: "loaded" }),
    row({ id: "l32-1b", name: "Llama 3.2 1B", unique: "llama3.2:1b-instruct-q4_K_S", provider: "META", foundation: "LLAMA_LATEST", bytes: 775946240, ram: 1610612736, parameters: 1.24, quantization: "q4_K_S", max_tokens: 131072, state: "available" }),
    row({ id: "l3-8b", name: "Llama 3 8B", unique: "llama3:8b-instruct-q4_K_S", provider: "META", foundation: "LLAMA_3_8B", downloaded: true, bytes: 4692669824, ram: 6442450944, parameters: 8, quantization: "q4_K_S", max_tokens: 131072, state: "downloaded" }),
    row({ id: "phi3", name: "Phi-3 Mini 4K", unique: "phi3:mini", provider: "MICROSOFT", foundation: "PHI_3_MINI", downloading: true, bytes: 2183921664, ram: 3758096384, parameters: 3.8, quantization: "q4_K_S", max_tokens: 4096, state: "downloading" }),
    row({ id: "mistral", name: "Mistral 7B", unique: "mistral:7b", provider: null, foundation: "MISTRAL_7B", downloaded: true, bytes: 4144753664, ram: 6442450944, parameters: 7.25, quantization: "q4_K_S", max_tokens: 32768, state: "downloaded" }),
    row({ id: "team", name: "Team Llama 3 8B (fine-tuned)", unique: "llama3:8b-team-q4_K_M", provider: "META", foundation: "LLAMA_3_8B", downloaded: true, custom: true, bytes: 4920739840, ram: 6979321856, parameters: 8, quantization: "q4_K_M", max_tokens: 8192, state: "downloaded", description: "Fine-tuned on the team's code" }),
    row({ id: "weird", name: "Future Model", unique: "future:1b", provider: "NEWCO", foundation: "SOMETHING_NEW", bytes: null, state: "quarantined" }),
  ];
}
