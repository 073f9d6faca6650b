// A tiny element builder. Data only ever reaches the DOM as text nodes or attribute values:
// there is no innerHTML anywhere in this package (a unit test greps for it).

/**
 * @typedef {Record<string, string | number | boolean | null | undefined>} Attrs
 * `class` sets className, `text` sets textContent, `hidden`/`disabled` are properties,
 * `true` sets an empty attribute, `false`/null/undefined skip it, anything else setAttribute.
 */

/**
 * @param {Document} doc
 * @param {string} tag
 * @param {Attrs | null} [attrs]
 * @param {...(Node | string | null | undefined | false)} children strings become text nodes
 * @returns {HTMLElement}
 */
export function h(doc, tag, attrs, ...children) {
  const node = /** @type {HTMLElement} */ (doc.createElement(tag));
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = String(v);
      else if (k === "text") node.textContent = String(v);
      else if (k === "hidden") node.hidden = Boolean(v);
      else if (k === "disabled") /** @type {HTMLButtonElement} */ (node).disabled = Boolean(v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === "string" ? doc.createTextNode(c) : c);
  }
  return node;
}

/**
 * Set a node's text only when it differs (avoids needless DOM writes).
 * @param {Node} node @param {string} text
 */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * Set or remove an attribute only when it differs.
 * @param {Element} node @param {string} name @param {string | null} value null removes it
 */
export function setAttr(node, name, value) {
  if (value === null) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== value) {
    node.setAttribute(name, value);
  }
}

/**
 * The focused element as seen from `node`'s tree: inside a shadow root (marimo renders widgets
 * in one) `document.activeElement` is only the shadow host, the root's own activeElement is the
 * real one.
 * @param {Node} node @returns {HTMLElement | null}
 */
export function activeElement(node) {
  const root = /** @type {any} */ (node.getRootNode ? node.getRootNode() : null);
  const active = root && "activeElement" in root ? root.activeElement : /** @type {any} */ (node.ownerDocument)?.activeElement;
  return active || null;
}
