// Screen-reader announcements: one polite live region per view. Messages queued in the same
// task are joined (a snapshot may finish several downloads at once); repeating the last message
// clears the region first so it is read again.

export class Live {
  /** @param {(tag: string, attrs?: any, ...kids: any[]) => HTMLElement} e */
  constructor(e) {
    this.node = e("div", { class: "pmm-sr", role: "status", "aria-live": "polite" });
    /** @type {string[]} */ this.queue = [];
    this.last = "";
    this.closed = false;
  }

  /** Queue a polite announcement (finished downloads, errors, connection changes). @param {string} text */
  announce(text) {
    if (!text || this.closed) return;
    this.queue.push(text);
    if (this.queue.length === 1) queueMicrotask(() => this.flush());
  }

  flush() {
    if (this.closed) return;
    const msg = [...new Set(this.queue)].join(" ");
    this.queue = [];
    if (msg === this.last) this.node.textContent = "";
    this.last = msg;
    this.node.textContent = msg;
  }

  destroy() {
    this.closed = true;
  }
}
