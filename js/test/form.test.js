import assert from "node:assert/strict";
import { test } from "node:test";
import { collectFields } from "../src/form.js";
import { row } from "./helpers.js";

test("create: non-empty fields, numbers parsed, cloud always sent", () => {
  const { fields, errors } = collectFields(
    { name: "  My model ", unique: "my:1", version: "", provider: "", foundation: "", parameters: "8", quantization: "q4_K_M", max_tokens: "8192", description: "", cloud: false },
    null,
  );
  assert.deepEqual(errors, {});
  assert.deepEqual(fields, { name: "My model", unique: "my:1", parameters: 8, quantization: "q4_K_M", max_tokens: 8192, cloud: false });
});

test("create: name required, numbers validated", () => {
  const { errors } = collectFields({ name: " ", parameters: "abc", max_tokens: "1.5", cloud: true }, null);
  assert.deepEqual(Object.keys(errors).sort(), ["max_tokens", "name", "parameters"]);
});

test("update: only changed fields; cleared fields are null", () => {
  const original = row({ id: "t", name: "Team", unique: "team:1", custom: true, parameters: 8, quantization: "q4_K_M", max_tokens: 8192, description: "old", version: "1" });
  const { fields, errors } = collectFields(
    { name: "Team", unique: "team:2", version: "1", provider: "", foundation: "", parameters: "8", quantization: "q4_K_M", max_tokens: "8192", description: "", cloud: false },
    original,
  );
  assert.deepEqual(errors, {});
  assert.deepEqual(fields, { unique: "team:2", description: null });
});
