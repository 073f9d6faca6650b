import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { formatBytes } from "../src/format.js";

// The cases Python's pieces_widgets.units.format_bytes is tested on (tests/test_units.py): both
// sides must write the same text for the same number. An input {"float": "NaN"} stands for a
// number JSON cannot write.
const CASES = JSON.parse(
  readFileSync(new URL("../../tests/fixtures/format_bytes_cases.json", import.meta.url), "utf8"),
);

/** @param {unknown} value */
function decode(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "float") return Number(/** @type {any} */ (value).float);
  }
  return value;
}

test("the shared cases are there", () => {
  assert.ok(CASES.length >= 40, String(CASES.length));
});

test("formatBytes gives the expected text for every shared case", () => {
  for (const [input, expected] of CASES) {
    assert.equal(formatBytes(/** @type {any} */ (decode(input))), expected, JSON.stringify(input));
  }
});
