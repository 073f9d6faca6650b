// Several at once: which rows are selected. The selection lives here (ids, not DOM), so it
// survives windowing (rows not rendered keep their state) and follows the `selection` trait
// both ways: the view writes it through sync.js, Python may set it and prunes ids that leave
// the catalogue. Pure (no DOM).

export class Selection {
  constructor() {
    /** @type {Set<string>} */ this.ids = new Set();
  }

  get size() {
    return this.ids.size;
  }

  /** @param {string} id */
  has(id) {
    return this.ids.has(id);
  }

  /**
   * Take the trait's value (a list of ids). Returns true when it differs from what is held.
   * @param {unknown} value
   */
  follow(value) {
    const next = new Set(Array.isArray(value) ? value.filter((v) => v !== null && v !== undefined).map(String) : []);
    if (next.size === this.ids.size && [...next].every((id) => this.ids.has(id))) return false;
    this.ids = next;
    return true;
  }

  /** Select or unselect some ids. Returns true when anything changed. @param {Iterable<string>} ids @param {boolean} on */
  set(ids, on) {
    let changed = false;
    for (const id of ids) {
      if (on === this.ids.has(id)) continue;
      if (on) this.ids.add(id);
      else this.ids.delete(id);
      changed = true;
    }
    return changed;
  }

  /** The ids as the trait holds them. @returns {string[]} */
  list() {
    return [...this.ids];
  }

  /**
   * The select-all checkbox of the matching rows: checked when all are selected, mixed when
   * some are (indeterminate), unchecked when none (or no rows match).
   * @param {Iterable<{id: string, match: boolean}>} entries
   * @returns {{checked: boolean, mixed: boolean, selected: number, shown: number}}
   */
  allState(entries) {
    let shown = 0;
    let selected = 0;
    for (const entry of entries) {
      if (!entry.match) continue;
      shown += 1;
      if (this.ids.has(entry.id)) selected += 1;
    }
    return { checked: shown > 0 && selected === shown, mixed: selected > 0 && selected < shown, selected, shown };
  }
}
