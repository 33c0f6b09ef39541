// Text fields with a limit say so while the person writes: a live counter ("123 / 2000") under
// each one, and the refusal next to the field when the text is too long (found here, or by the
// server). Loaded by every page (base.html) and used by the room's scripts for the fields they add.
//
// The markup declares a limit with `maxlength` (which still holds where scripts do not run) or, for
// a one-item-per-line field whose every line is sent as a text of its own, with `data-limit` and
// `data-limit-per="line"`. Counted: every <textarea maxlength>, <input maxlength data-counter> and
// [data-limit] field.
//
// The script lifts `maxlength`, because a browser cuts a paste at maxlength without a word, and what
// the person wrote must never be cut silently. Over the limit the field is invalid instead (a form
// that validates does not submit; the room's opinion form asks `firstOverLimit`) and says so, and
// the text stays as written until the person shortens it. Characters are counted as the server
// counts them, in Unicode code points (not UTF-16 units as `maxlength` does), of the text trimmed
// at both ends: the room sends text trimmed, and the HTTP API trims before it checks.
import { fill } from "./i18n.js";

const LIMITED = "textarea[maxlength], input[maxlength][data-counter], [data-limit]";

let messages = null;

/** The page's texts for this helper (base.html renders them in the page's language). */
function say(key, values) {
  messages ??= JSON.parse(document.getElementById("text-limit-messages")?.textContent || "{}");
  return fill(messages[key] ?? key, values);
}

/** How the server counts a text: code points, so 𠀀 is one character, not two. */
function characters(text) {
  return [...text.trim()].length;
}

function used(field) {
  if (field.dataset.limitPer === "line") return Math.max(0, ...field.value.split("\n").map(characters));
  return characters(field.value);
}

/** The counter and message under `field` (made on first use, and named by the field's description). */
function note(field) {
  const id = `${field.id}-limit`;
  let node = document.getElementById(id);
  if (!node) {
    node = document.createElement("span");
    node.id = id;
    node.className = "text-limit";
    const counter = document.createElement("span");
    counter.className = "text-limit-count";
    const problem = document.createElement("span");
    problem.className = "text-limit-problem";
    problem.setAttribute("role", "alert");
    node.append(counter, problem);
    field.after(node);
    const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    field.setAttribute("aria-describedby", [...described, id].join(" "));
  }
  return node;
}

/** Say next to `field` what is wrong with it (empty: nothing). The server's refusals come here too:
 * the text stays as it is, and the next edit recounts and clears the message. */
export function showProblem(field, text) {
  const node = text ? note(field) : document.getElementById(`${field.id}-limit`);
  if (!node) return;
  node.querySelector(".text-limit-problem").textContent = text;
  if (text) field.setAttribute("aria-invalid", "true");
  else field.removeAttribute("aria-invalid");
}

/** Bring the counter and the validity of `field` up to date (after a script changed its text). */
export function recount(field) {
  const limit = Number(field.dataset.limit);
  const count = used(field);
  const node = note(field);
  const perLine = field.dataset.limitPer === "line" ? `${say("limit.per_line")} ` : "";
  node.querySelector(".text-limit-count").textContent = `${perLine}${count} / ${limit}`;
  const over = count > limit;
  node.classList.toggle("over", over);
  const problem = over ? say("limit.over", { limit }) : "";
  field.setCustomValidity(problem);
  showProblem(field, problem);
}

/** Give `field` its counter (once). */
export function limitField(field) {
  if (field.dataset.limitReady) return;
  field.dataset.limitReady = "true";
  field.dataset.limit ??= field.getAttribute("maxlength");
  field.removeAttribute("maxlength");
  field.addEventListener("input", () => recount(field));
  recount(field);
}

function limitFields(root = document) {
  root.querySelectorAll(LIMITED).forEach(limitField);
}

/** The first field of `form` that is shown and over its limit, or null. */
export function firstOverLimit(form) {
  return [...form.querySelectorAll("[data-limit]")].find((field) =>
    !field.closest("[hidden]") && used(field) > Number(field.dataset.limit)) || null;
}

limitFields();
