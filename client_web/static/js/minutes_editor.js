// The chair's minutes editor (client_web/templates/minutes/page.html): one form holding every
// editable text of the open version and one reason. The form works without this script (it posts
// every text and the server records only those that changed); the script only helps:
// - marks each text that differs from what was loaded (a visible "已修改", not colour alone) and
//   says how many are changed;
// - sends only the changed texts, and refuses to send when nothing changed;
// - warns before leaving the page with unsaved changes;
// - Ctrl+S or Ctrl+Enter (⌘ on a Mac) saves, through the form's own validation (the reason is
//   required, so an empty reason is pointed out rather than sent).
import { fill, pageConfig } from "./i18n.js";

const form = document.getElementById("minutes-editor");
const messages = pageConfig("minutes-editor-messages");
const status = document.getElementById("editor-status");
let saving = false;

/** The editor's text fields: a textarea's defaultValue is the text as loaded. */
function texts() {
  return [...form.querySelectorAll("textarea[name^='edit:']")];
}

/** As the server compares: line breaks as "\n", trimmed at both ends. */
function normalised(text) {
  return text.replace(/\r\n?/g, "\n").trim();
}

function changed(field) {
  return normalised(field.value) !== normalised(field.defaultValue);
}

function changedCount() {
  return texts().filter(changed).length;
}

/** Mark one field as changed or not, and say how many are changed. */
function mark(field) {
  const isChanged = changed(field);
  const wrapper = field.closest(".edit-field");
  wrapper.classList.toggle("changed", isChanged);
  wrapper.querySelector(".changed-mark").hidden = !isChanged;
  const count = changedCount();
  status.textContent = count ? fill(messages.changed, { n: count }) : messages.unchanged;
}

form.addEventListener("input", (event) => {
  if (event.target.matches("textarea[name^='edit:']")) mark(event.target);
});

form.addEventListener("submit", (event) => {
  if (!changedCount()) {
    event.preventDefault();
    status.textContent = messages.nothing;
    return;
  }
  // only the changed texts go: a disabled field is not sent
  for (const field of texts()) field.disabled = !changed(field);
  saving = true;
});

// a page restored from the back/forward cache shows the fields as they were: enable them again
window.addEventListener("pageshow", () => {
  for (const field of texts()) field.disabled = false;
  saving = false;
});

window.addEventListener("beforeunload", (event) => {
  if (!saving && changedCount()) {
    event.preventDefault();
    event.returnValue = "";
  }
});

document.addEventListener("keydown", (event) => {
  const modifier = event.ctrlKey || event.metaKey;
  if (!modifier || event.altKey) return;
  const key = event.key.toLowerCase();
  if (key === "s" || (key === "enter" && form.contains(document.activeElement))) {
    event.preventDefault();
    form.requestSubmit();  // validates first, then the submit handler below
  }
});

document.getElementById("editor-keys").hidden = false;
status.textContent = messages.unchanged;
