import assert from "node:assert/strict";
import { test } from "node:test";
import {
  COLUMN_KEYS,
  FILTER_KEYS,
  STATE_ORDER,
  filterCounts,
  filterRows,
  matchesFilter,
  matchesSearch,
  nextSort,
  normalizeFilter,
  normalizeSort,
  searchText,
  sortRows,
  textKey,
} from "../src/table.js";
import { catalogue, row } from "./helpers.js";

const ids = (rows) => rows.map((r) => r.id);

test("columns and filters are the contract's keys", () => {
  assert.deepEqual(COLUMN_KEYS, ["name", "provider", "cloud", "state", "bytes", "ram", "fit", "parameters", "quantization", "max_tokens"]);
  assert.deepEqual(FILTER_KEYS, ["all", "local", "cloud", "downloaded", "loaded", "custom", "fits"]);
});

test("sort on raw bytes, not on their text ('775.9 MB' < '4.69 GB')", () => {
  const rows = [
    row({ id: "a", bytes: 4692669824 }), // "4.69 GB"
    row({ id: "b", bytes: 775946240 }), // "775.9 MB" (sorts after "4.69 GB" as text)
    row({ id: "c", bytes: 26441817088 }), // "26.44 GB"
    row({ id: "d", bytes: 30408704 }), // "30.4 MB"
  ];
  assert.deepEqual(ids(sortRows(rows, { column: "bytes", descending: false })), ["d", "b", "a", "c"]);
  assert.deepEqual(ids(sortRows(rows, { column: "bytes", descending: true })), ["c", "a", "b", "d"]);
});

test("nulls (and missing, empty, NaN) sort last in both directions", () => {
  const rows = [
    row({ id: "n1", ram: null }),
    row({ id: "x", ram: 2 }),
    row({ id: "n2", ram: undefined }),
    row({ id: "y", ram: 1 }),
    row({ id: "n3", ram: NaN }),
  ];
  assert.deepEqual(ids(sortRows(rows, { column: "ram", descending: false })), ["y", "x", "n1", "n2", "n3"]);
  assert.deepEqual(ids(sortRows(rows, { column: "ram", descending: true })), ["x", "y", "n1", "n2", "n3"]);
  const named = [row({ id: "p", provider: null }), row({ id: "q", provider: "META" }), row({ id: "r", provider: "" })];
  assert.deepEqual(ids(sortRows(named, { column: "provider", descending: true })), ["q", "p", "r"]);
});

test("sort is stable: ties keep server order, in both directions", () => {
  const rows = [
    row({ id: "1", quantization: "q4_K_S" }),
    row({ id: "2", quantization: "q4_K_M" }),
    row({ id: "3", quantization: "q4_K_S" }),
    row({ id: "4", quantization: "q4_K_M" }),
    row({ id: "5", quantization: "q4_K_S" }),
  ];
  assert.deepEqual(ids(sortRows(rows, { column: "quantization", descending: false })), ["2", "4", "1", "3", "5"]);
  assert.deepEqual(ids(sortRows(rows, { column: "quantization", descending: true })), ["1", "3", "5", "2", "4"]);
});

test("text keys: accents and case folded, digit runs compared as numbers", () => {
  assert.equal(textKey("Élan"), textKey("elan"));
  assert.ok(textKey("model 9") < textKey("model 10"));
  assert.ok(textKey("model 009") === textKey("model 9"));
  assert.ok(textKey("q4_K_M") < textKey("q4_K_S"));
  assert.ok(textKey("a") < textKey("B"));
});

test("text sort is case-insensitive and numeric-aware", () => {
  const rows = [row({ id: "a", name: "llama 10B" }), row({ id: "b", name: "Llama 9B" }), row({ id: "c", name: "alpha" })];
  assert.deepEqual(ids(sortRows(rows, { column: "name", descending: false })), ["c", "b", "a"]);
});

test("state sorts by the state order; unknown states after known ones", () => {
  const rows = catalogue();
  const asc = sortRows(rows, { column: "state", descending: false }).map((r) => r.state);
  assert.deepEqual(asc, ["loaded", "downloading", "downloaded", "downloaded", "downloaded", "available", "cloud", "quarantined"]);
  const desc = sortRows(rows, { column: "state", descending: true }).map((r) => r.state);
  assert.deepEqual(desc, ["quarantined", "cloud", "available", "downloaded", "downloaded", "downloaded", "downloading", "loaded"]);
  assert.deepEqual(STATE_ORDER, ["loaded", "downloading", "downloaded", "available", "cloud"]);
});

test("booleans: local before cloud ascending", () => {
  const rows = [row({ id: "c", cloud: true }), row({ id: "l", cloud: false }), row({ id: "u", cloud: null })];
  assert.deepEqual(ids(sortRows(rows, { column: "cloud", descending: false })), ["l", "c", "u"]);
  assert.deepEqual(ids(sortRows(rows, { column: "cloud", descending: true })), ["c", "l", "u"]);
});

test("no sort column keeps server order and does not mutate the input", () => {
  const rows = catalogue();
  const copy = rows.slice();
  assert.deepEqual(ids(sortRows(rows, { column: null, descending: false })), ids(copy));
  sortRows(rows, { column: "name", descending: true });
  assert.deepEqual(ids(rows), ids(copy));
});

test("normalizeSort / nextSort / normalizeFilter", () => {
  assert.deepEqual(normalizeSort({ column: "bytes", descending: true }), { column: "bytes", descending: true });
  assert.deepEqual(normalizeSort({ column: "nope", descending: true }), { column: null, descending: false });
  assert.deepEqual(normalizeSort(null), { column: null, descending: false });
  assert.deepEqual(normalizeSort({}), { column: null, descending: false });
  assert.deepEqual(nextSort({ column: null, descending: false }, "ram"), { column: "ram", descending: false });
  assert.deepEqual(nextSort({ column: "ram", descending: false }, "ram"), { column: "ram", descending: true });
  assert.deepEqual(nextSort({ column: "ram", descending: true }, "ram"), { column: "ram", descending: false });
  assert.deepEqual(nextSort({ column: "ram", descending: true }, "name"), { column: "name", descending: false });
  assert.equal(normalizeFilter("loaded"), "loaded");
  assert.equal(normalizeFilter("bogus"), "all");
  assert.equal(normalizeFilter(undefined), "all");
});

test("filter chips", () => {
  const rows = catalogue();
  const pick = (f) => ids(rows.filter((r) => matchesFilter(r, f)));
  assert.deepEqual(pick("all"), ids(rows));
  assert.deepEqual(pick("cloud"), ["gpt4o"]);
  assert.deepEqual(pick("local"), ["l32-3b", "l32-1b", "l3-8b", "phi3", "mistral", "team", "weird"]);
  assert.deepEqual(pick("downloaded"), ["l32-3b", "l3-8b", "mistral", "team"]);
  assert.deepEqual(pick("loaded"), ["l32-3b"]);
  assert.deepEqual(pick("custom"), ["team"]);
  assert.deepEqual(filterCounts(rows), { all: 8, local: 7, cloud: 1, downloaded: 4, loaded: 1, custom: 1, fits: 0 });
});

test("filterCounts counts exactly what matchesFilter shows, for odd flag/state mixes too", () => {
  const rows = [];
  for (const state of ["cloud", "available", "downloading", "downloaded", "loaded", "weird", null]) {
    for (let bits = 0; bits < 32; bits++) {
      rows.push(row({ id: `${state}-${bits}`, state, cloud: bits & 1 ? true : bits & 16 ? null : false, downloaded: Boolean(bits & 2), loaded: Boolean(bits & 4), custom: Boolean(bits & 8) }));
    }
  }
  const counts = filterCounts(rows);
  assert.deepEqual(Object.keys(counts), FILTER_KEYS);
  for (const f of FILTER_KEYS) assert.equal(counts[f], rows.filter((r) => matchesFilter(r, f)).length, f);
});

test("search: case-insensitive, over name, unique, provider, foundation, quantization, description", () => {
  const rows = catalogue();
  const find = (q) => ids(filterRows(rows, "all", q));
  assert.deepEqual(find("LLAMA 3.2"), ["l32-3b", "l32-1b"]); // name, the whole query as one substring
  assert.deepEqual(find("  llama 3.2  "), ["l32-3b", "l32-1b"]); // trimmed
  assert.deepEqual(find("3.2 llama"), []); // not split into words (same rule as the Python side)
  assert.deepEqual(find("phi3:mini"), ["phi3"]); // unique
  assert.deepEqual(find("microsoft"), ["phi3"]); // provider
  assert.deepEqual(find("mistral_7b"), ["mistral"]); // foundation
  assert.deepEqual(find("Q4_K_M"), ["team"]); // quantization
  assert.deepEqual(find("team's code"), ["team"]); // description
  assert.deepEqual(find("  "), ids(rows));
  assert.deepEqual(find("nothing-like-this"), []);
  assert.deepEqual(ids(filterRows(rows, "downloaded", "llama")), ["l32-3b", "l3-8b", "team"]);
  // Fields outside the list are not searched.
  assert.equal(matchesSearch(row({ id: "z", name: "x", usage: "CODE_CONVERSATION" }), "conversation"), false);
  assert.equal(matchesSearch(searchText(rows[0]), "gpt-4o"), true);
  // The needle never spans two fields.
  assert.equal(matchesSearch(row({ id: "z", name: "abc", unique: "def" }), "abc\ndef"), false);
  assert.equal(matchesSearch(row({ id: "z", name: "abc", unique: "def" }), "cde"), false);
});
