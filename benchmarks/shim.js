// A stand-in for the anywidget model the real widget.js renders against in the benchmark pages.
// Same surface as the model anywidget hands to render(): get/set/on/off/save_changes/send.
// applyState(state) applies one ipywidgets "update" message the way the Backbone model does:
// every key first, then one change:<key> event per changed key.

export class ShimModel {
  constructor(state) {
    this.state = { ...state };
    this.handlers = new Map();
    this.sent = [];
  }
  get(key) {
    return this.state[key];
  }
  set(key, value) {
    this.applyState({ [key]: value });
  }
  applyState(patch) {
    const changed = [];
    for (const [key, value] of Object.entries(patch)) {
      if (this.state[key] !== value) changed.push(key);
      this.state[key] = value;
    }
    for (const key of changed) {
      for (const cb of [...(this.handlers.get(`change:${key}`) || [])]) cb(this, this.state[key]);
    }
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
  save_changes() {}
  send(msg) {
    this.sent.push(msg);
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution (same clock as Python's time.time()). */
export const wallMs = () => performance.timeOrigin + performance.now();

/** Resolve after the next frame has been produced. */
export const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
