// The table's frame: sortable column headers, tbody, the scroll box and the empty-state line.
// Rows are CSS grids (not table layout) so that `content-visibility: auto` can skip off-screen
// rows; explicit ARIA roles keep the table semantics. The grid tracks come from the column
// table (table.js) as CSS variables, one per container size, so a column is declared once.
import { setAttr, setText } from "./dom.js";
import { ACTIONS_WIDTHS, COLUMNS, SELECT_WIDTHS, foldLevel, gridTemplates } from "./table.js";

/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */

export class TableView {
  /** @param {Make} e */
  constructor(e) {
    // Select-all of the matching (filtered) rows: checked, unchecked or mixed (selection.js).
    this.selectAll = /** @type {HTMLInputElement} */ (e("input", { type: "checkbox", class: "pmm-check", "data-select-all": "true", "aria-label": "Select all shown models" }));
    const headRow = e("tr", { role: "row" }, e("th", { scope: "col", role: "columnheader", class: "pmm-th-select" }, this.selectAll));
    /** @type {Map<string, HTMLElement>} */
    this.ths = new Map();
    for (const c of COLUMNS) {
      const fold = foldLevel(c);
      const th = e("th", { scope: "col", role: "columnheader", "data-column": c.key, "data-fold": fold ? String(fold) : null, class: c.numeric ? "pmm-num" : null },
        e("button", { type: "button", class: "pmm-sort", title: `Sort by ${c.label}` },
          e("span", { text: c.label }), e("span", { class: "pmm-sort-ind", "aria-hidden": "true" })));
      this.ths.set(c.key, th);
      headRow.appendChild(th);
    }
    headRow.appendChild(e("th", { scope: "col", role: "columnheader", class: "pmm-th-actions", text: "Actions" }));
    this.tbody = e("tbody", { role: "rowgroup" });
    this.thead = e("thead", { role: "rowgroup" }, headRow);
    this.table = e("table", { class: "pmm-table", role: "table", "aria-label": "Pieces OS models" }, this.thead, this.tbody);
    gridTemplates().forEach((cols, i) => this.table.style.setProperty(`--pmm-cols-${i}`, cols));
    this.table.style.setProperty("--pmm-min-0", `${minWidth(0)}px`);
    this.table.style.setProperty("--pmm-min-1", `${minWidth(1)}px`);
    this.emptyText = e("span", { class: "pmm-empty-text" });
    this.clearBtn = e("button", { type: "button", class: "pmm-btn", "data-action": "clear-filters" }, "Clear search and filter");
    this.empty = e("div", { class: "pmm-empty", hidden: true }, this.emptyText, this.clearBtn);
    this.scroller = e("div", { class: "pmm-scroll" }, this.table, this.empty);
  }

  /** @param {{column: string | null, descending: boolean}} sort */
  renderSort(sort) {
    for (const [key, th] of this.ths) {
      setAttr(th, "aria-sort", sort.column === key ? (sort.descending ? "descending" : "ascending") : null);
    }
  }

  /**
   * The empty-state line and the scroll box's visibility.
   * @param {{conn: string, total: number, visible: number, filter: string, search: string, searching: boolean}} s
   */
  renderCounts({ conn, total, visible, filter, search, searching }) {
    const noRows = visible === 0;
    this.empty.hidden = !noRows || (total === 0 && conn !== "connected");
    if (noRows) {
      if (total === 0) setText(this.emptyText, "Pieces OS reports no models.");
      else if (searching) setText(this.emptyText, `No models match “${search.trim()}”${filter !== "all" ? ` in ${filter}` : ""}.`);
      else setText(this.emptyText, `No ${filter} models.`);
      this.clearBtn.hidden = !((filter !== "all" || searching) && total > 0);
    }
    this.scroller.hidden = total === 0 && conn !== "connected";
    this.table.setAttribute("data-visible", String(visible));
  }
}

/** The narrowest a size's grid gets before the table scrolls sideways: the tracks' px minimums. @param {number} i */
function minWidth(i) {
  let px = 0;
  for (const w of [SELECT_WIDTHS[i], ...COLUMNS.map((c) => c.widths[i]), ACTIONS_WIDTHS[i]]) {
    const m = w ? /(\d+)px/.exec(w) : null;
    if (m) px += Number(m[1]);
  }
  return px;
}
