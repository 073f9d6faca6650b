// The add / edit custom model form: field list (pure), value collection (pure), DOM builder.
import { h } from "./dom.js";

/** @typedef {import("./table.js").Row} Row */

/**
 * Form fields, named as the `create`/`update` command's `fields` (docs/architecture.md).
 * @type {{key: string, label: string, type: "text"|"number"|"textarea"|"checkbox",
 *   required?: boolean, placeholder?: string, step?: string, min?: string, hint?: string}[]}
 */
export const FORM_FIELDS = [
  { key: "name", label: "Name", type: "text", required: true, placeholder: "e.g. My fine-tuned Llama" },
  { key: "unique", label: "Tag (unique)", type: "text", placeholder: "e.g. llama3.1:8b-mine-q4_K_M" },
  { key: "version", label: "Version", type: "text", placeholder: "e.g. 1.0.0" },
  { key: "provider", label: "Provider", type: "text", placeholder: "e.g. META" },
  { key: "foundation", label: "Foundation", type: "text", placeholder: "e.g. LLAMA_3_8B" },
  { key: "parameters", label: "Parameters (billions)", type: "number", step: "any", min: "0", placeholder: "e.g. 8" },
  { key: "quantization", label: "Quantization", type: "text", placeholder: "e.g. q4_K_M" },
  { key: "max_tokens", label: "Context (max tokens)", type: "number", step: "1", min: "1", placeholder: "e.g. 8192" },
  { key: "description", label: "Description", type: "textarea" },
  { key: "cloud", label: "Cloud model (runs on a remote service, nothing to download)", type: "checkbox" },
];

const NUMBER_FIELDS = new Set(["parameters", "max_tokens"]);

/**
 * Turn raw form values into the command's `fields`.
 * Create (`original` null): non-empty values only, numbers parsed, `cloud` always sent.
 * Update: only the fields that differ from `original`; a cleared field is sent as null.
 * @param {Record<string, string | boolean>} raw input values by key (checkbox: boolean)
 * @param {Row | null} original the row being edited, or null when creating
 * @returns {{fields: Record<string, string | number | boolean | null>, errors: Record<string, string>}}
 */
export function collectFields(raw, original) {
  /** @type {Record<string, string | number | boolean | null>} */
  const fields = {};
  /** @type {Record<string, string>} */
  const errors = {};
  for (const f of FORM_FIELDS) {
    const rawValue = raw[f.key];
    /** @type {string | number | boolean | null} */
    let value;
    if (f.type === "checkbox") {
      value = Boolean(rawValue);
    } else {
      const text = String(rawValue ?? "").trim();
      if (text === "") value = null;
      else if (NUMBER_FIELDS.has(f.key)) {
        const n = Number(text);
        if (!Number.isFinite(n) || n < 0) {
          errors[f.key] = `${f.label} must be a number of 0 or more.`;
          continue;
        }
        if (f.key === "max_tokens" && (!Number.isInteger(n) || n < 1)) {
          errors[f.key] = `${f.label} must be a whole number of 1 or more.`;
          continue;
        }
        value = n;
      } else value = text;
    }
    if (f.required && (value === null || value === "")) {
      errors[f.key] = `${f.label} is required.`;
      continue;
    }
    if (original) {
      const before = /** @type {any} */ (original)[f.key];
      const same =
        f.type === "checkbox"
          ? Boolean(before) === value
          : (before === null || before === undefined || before === "" ? null : before) === value;
      if (!same) fields[f.key] = value;
    } else if (value !== null) {
      fields[f.key] = value;
    }
  }
  return { fields, errors };
}

/**
 * Build the (hidden) form element. Returns the form and its inputs by key.
 * @param {Document} doc
 */
export function buildForm(doc) {
  /** @type {Record<string, HTMLInputElement | HTMLTextAreaElement>} */
  const inputs = {};
  const title = h(doc, "h3", { class: "pmm-form-title" });
  const grid = h(doc, "div", { class: "pmm-form-grid" });
  for (const f of FORM_FIELDS) {
    const input =
      f.type === "textarea"
        ? h(doc, "textarea", { name: f.key, rows: "2" })
        : h(doc, "input", {
            name: f.key,
            type: f.type,
            placeholder: f.placeholder,
            step: f.step,
            min: f.min,
            required: f.required || false,
            autocomplete: "off",
            spellcheck: f.type === "text" ? "false" : null,
          });
    inputs[f.key] = /** @type {any} */ (input);
    const cls =
      f.type === "checkbox" ? "pmm-field pmm-field--check" : f.type === "textarea" ? "pmm-field pmm-field--wide" : "pmm-field";
    const label =
      f.type === "checkbox"
        ? h(doc, "label", { class: cls }, input, h(doc, "span", { text: f.label }))
        : h(doc, "label", { class: cls }, h(doc, "span", { class: "pmm-field-label", text: f.required ? `${f.label} *` : f.label }), input);
    grid.appendChild(label);
  }
  const error = h(doc, "p", { class: "pmm-form-error", hidden: true, role: "alert" });
  const submit = h(doc, "button", { type: "submit", class: "pmm-btn pmm-btn--primary", "data-action": "submit-form", text: "Add model" });
  const close = h(doc, "button", { type: "button", class: "pmm-btn", "data-action": "close-form", text: "Cancel" });
  const form = /** @type {HTMLFormElement} */ (
    h(doc, "form", { class: "pmm-form", hidden: true, novalidate: true, "aria-label": "Custom model" },
      title, grid, error, h(doc, "div", { class: "pmm-form-buttons" }, submit, close))
  );
  return { form, inputs, title, error, submit };
}

/**
 * Fill the form's inputs from a row (edit) or clear them (create).
 * @param {Record<string, HTMLInputElement | HTMLTextAreaElement>} inputs @param {Row | null} row
 */
export function fillForm(inputs, row) {
  for (const f of FORM_FIELDS) {
    const input = inputs[f.key];
    const v = row ? /** @type {any} */ (row)[f.key] : null;
    if (f.type === "checkbox") /** @type {HTMLInputElement} */ (input).checked = Boolean(v);
    else input.value = v === null || v === undefined ? "" : String(v);
  }
}

/**
 * Read raw values back from the inputs.
 * @param {Record<string, HTMLInputElement | HTMLTextAreaElement>} inputs
 * @returns {Record<string, string | boolean>}
 */
export function readForm(inputs) {
  /** @type {Record<string, string | boolean>} */
  const raw = {};
  for (const f of FORM_FIELDS) {
    const input = inputs[f.key];
    raw[f.key] = f.type === "checkbox" ? /** @type {HTMLInputElement} */ (input).checked : input.value;
  }
  return raw;
}

/**
 * The add/edit form as a controller: open (prefilled for edit), close (focus back to the
 * button that opened it), submit (validate, then send `create` or `update` with what changed).
 * @param {Document} doc
 * @param {{rowOf: (id: string) => Row | null, nameOf: (id: string) => string,
 *   send: (action: string, extra: Record<string, any>) => void,
 *   state: {form: {mode: "create" | "update", id: string | null, opener: HTMLElement | null} | null}}} deps
 */
export function formController(doc, deps) {
  const form = buildForm(doc);
  const { state } = deps;

  /** @param {"create" | "update"} mode @param {string | null} id @param {HTMLElement | null} opener */
  function open(mode, id, opener) {
    const row = id ? deps.rowOf(id) : null;
    state.form = { mode, id: id || null, opener };
    fillForm(form.inputs, mode === "update" ? row : null);
    form.title.textContent = mode === "update" ? `Edit “${id ? deps.nameOf(id) : ""}”` : "Add a custom model";
    form.submit.textContent = mode === "update" ? "Save changes" : "Add model";
    form.error.hidden = true;
    form.form.hidden = false;
    /** @type {HTMLElement} */ (form.inputs.name).focus();
  }

  function close() {
    if (!state.form) return;
    const opener = state.form.opener;
    state.form = null;
    form.form.hidden = true;
    if (opener && opener.isConnected && !(/** @type {HTMLButtonElement} */ (opener).disabled)) opener.focus();
  }

  function submit() {
    const st = state.form;
    if (!st) return;
    const original = st.mode === "update" && st.id ? deps.rowOf(st.id) : null;
    const { fields, errors } = collectFields(readForm(form.inputs), st.mode === "update" ? original || {} : null);
    const keys = Object.keys(errors);
    if (keys.length) {
      form.error.textContent = Object.values(errors).join(" ");
      form.error.hidden = false;
      /** @type {HTMLElement} */ (form.inputs[keys[0]]).focus();
      return;
    }
    if (st.mode === "update") {
      if (Object.keys(fields).length) deps.send("update", { id: st.id, fields });
    } else {
      deps.send("create", { fields });
    }
    close();
  }

  /** @param {Event} ev */
  const onSubmit = (ev) => {
    ev.preventDefault();
    submit();
  };
  form.form.addEventListener("submit", onSubmit);
  return {
    node: form.form,
    open,
    close,
    submit,
    /** Is this node inside the open form? @param {Node} node */
    owns: (node) => Boolean(state.form) && form.form.contains(node),
    destroy: () => form.form.removeEventListener("submit", onSubmit),
  };
}
