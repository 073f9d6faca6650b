import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatAge,
  formatBytes,
  formatEta,
  formatInteger,
  formatParameters,
  formatPercent,
  formatSpeed,
  formatTokens,
  formatUpdated,
  plural,
} from "../src/format.js";

test("formatBytes matches the server's readable strings (decimal units)", () => {
  // Pairs taken from shared/fixtures/models_snapshot.json (value -> readable).
  const pairs = [
    [4692669824, "4.69 GB"],
    [775946240, "775.9 MB"],
    [30408704, "30.4 MB"],
    [67108864, "67.1 MB"],
    [26441817088, "26.44 GB"],
    [12884901888, "12.88 GB"],
    [34359738368, "34.36 GB"],
    [1928429824, "1.93 GB"],
  ];
  for (const [value, readable] of pairs) assert.equal(formatBytes(value), readable, String(value));
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1500), "1.5 KB");
  assert.equal(formatBytes(999_960_000), "1.00 GB"); // rounds up a unit, never "1000.0 MB"
  assert.equal(formatBytes(2.5e12), "2.50 TB");
  for (const bad of [null, undefined, NaN, -1, Infinity]) assert.equal(formatBytes(/** @type {any} */ (bad)), "");
});

test("formatSpeed", () => {
  assert.equal(formatSpeed(4.6e6), "4.6 MB/s");
  assert.equal(formatSpeed(512), "512 B/s");
  assert.equal(formatSpeed(1.25e9), "1.3 GB/s");
  assert.equal(formatSpeed(999_990), "1.0 MB/s");
  assert.equal(formatSpeed(null), "");
});

test("formatEta like Ollama", () => {
  assert.equal(formatEta(236), "3m56s");
  assert.equal(formatEta(45), "45s");
  assert.equal(formatEta(0), "0s");
  assert.equal(formatEta(60), "1m00s");
  assert.equal(formatEta(3720), "1h02m");
  assert.equal(formatEta(400000), "111h");
  assert.equal(formatEta(null), "");
  assert.equal(formatEta(-3), "");
});

test("formatAge / formatUpdated: 'updated N s ago'", () => {
  assert.equal(formatAge(0.4), "updated just now");
  assert.equal(formatAge(5), "updated 5 s ago");
  assert.equal(formatAge(5.9), "updated 5 s ago");
  assert.equal(formatAge(125), "updated 2 min ago");
  assert.equal(formatAge(7200), "updated 2 h ago");
  assert.equal(formatAge(200000), "updated 2 d ago");
  assert.equal(formatAge(-3), "updated just now"); // clock skew
  assert.equal(formatUpdated(1000, 1005_000), "updated 5 s ago");
  assert.equal(formatUpdated(0, 1005_000), "not updated yet");
  assert.equal(formatUpdated(null, 1005_000), "not updated yet");
});

test("formatParameters in billions", () => {
  assert.equal(formatParameters(9.24), "9.24B");
  assert.equal(formatParameters(8.0), "8B");
  assert.equal(formatParameters(46.7), "46.7B");
  assert.equal(formatParameters(7.62), "7.62B");
  assert.equal(formatParameters(0.0076), "7.6M");
  assert.equal(formatParameters(0.5), "500M");
  assert.equal(formatParameters(1500), "1.5T");
  assert.equal(formatParameters(0), "0");
  assert.equal(formatParameters(null), "");
});

test("formatTokens, formatInteger, formatPercent, plural", () => {
  assert.equal(formatTokens(131072), "128K");
  assert.equal(formatTokens(4096), "4K");
  assert.equal(formatTokens(200000), "200K");
  assert.equal(formatTokens(128000), "128K");
  assert.equal(formatTokens(1000000), "1M");
  assert.equal(formatTokens(1048576), "1M");
  assert.equal(formatTokens(8192), "8K");
  assert.equal(formatTokens(2097152), "2M");
  assert.equal(formatTokens(1047576), "1.05M");
  assert.equal(formatTokens(16385), "16.4K");
  assert.equal(formatTokens(512), "512");
  assert.equal(formatTokens(null), "");
  assert.equal(formatInteger(131072), "131,072");
  assert.equal(formatInteger(1234567), "1,234,567");
  assert.equal(formatPercent(42.9), "42%");
  assert.equal(formatPercent(99.99), "99%");
  assert.equal(formatPercent(100), "100%");
  assert.equal(formatPercent(140), "100%");
  assert.equal(formatPercent(-2), "0%");
  assert.equal(plural(1, "model"), "1 model");
  assert.equal(plural(3, "model"), "3 models");
});
