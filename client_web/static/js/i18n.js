// Translation for the room's scripts. The catalog is the room's part of client_web/i18n/<lang>.json,
// inlined by the page (server/web/pages/room.py), so the same text serves templates and scripts.

let catalog = {};
let language = "zh";

/** Use the page's configuration (its "catalog" and "lang"). */
export function setCatalog(config) {
  catalog = config.catalog || {};
  language = config.lang || "zh";
}

export function lang() {
  return language;
}

/** The text for `key` with `{name}` placeholders filled; the key itself when missing (visible gap). */
export function t(key, values = {}) {
  return fill(catalog[key] ?? key, values);
}

/** `text` with its `{name}` placeholders replaced by `values` (unknown names stay visible). */
export function fill(text, values = {}) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Read the JSON configuration the page embeds in <script type="application/json" id="...">. */
export function pageConfig(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : {};
}
