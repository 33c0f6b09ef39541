// The case page's material upload with a script: drag and drop, a progress bar (XMLHttpRequest
// upload progress, which fetch does not report) and refusals placed by the field. Without a
// script the same form posts to the page route; both end in the API's upload path.

const form = document.getElementById("material-upload");
const messages = JSON.parse(form.dataset.messages);
const fileInput = document.getElementById("material-file");
const titleInput = document.getElementById("material-title");
const zone = document.getElementById("material-drop");
const progressRow = document.getElementById("material-progress-row");
const progress = document.getElementById("material-progress");
const progressText = document.getElementById("material-progress-text");
const errors = { file: document.getElementById("material-file-error"), title: document.getElementById("material-title-error") };
const inputs = { file: fileInput, title: titleInput };

function showError(field, text) {
  const name = field === "title" ? "title" : "file";
  for (const [key, element] of Object.entries(errors)) {
    const shown = key === name && Boolean(text);
    element.hidden = !shown;
    element.textContent = shown ? text : "";
    if (shown) inputs[key].setAttribute("aria-invalid", "true");
    else inputs[key].removeAttribute("aria-invalid");
  }
}

/** The page language's half of a bilingual "中文 / English" message from the API. */
function inLanguage(message) {
  const at = message.indexOf(" / ");
  if (at < 0) return message;
  return messages.lang === "en" ? message.slice(at + 3) : message.slice(0, at);
}

/** Why the file cannot be sent, checked before a byte goes out ("" if it may be sent). */
function refusal(file) {
  const isPdf = file.type === "application/pdf" || file.name.toLowerCase().endsWith(".pdf");
  if (!isPdf) return messages.not_pdf;
  if (file.size === 0) return messages.empty;
  if (file.size > Number(form.dataset.maxBytes)) return messages.too_large;
  return "";
}

function setProgress(percent) {
  progressRow.hidden = false;
  progress.value = percent;
  progressText.textContent = messages.progress.replace("{percent}", String(percent));
}

/** Replace the list with the page's fresh one (it names the uploader and the time as the server has them). */
async function refreshList() {
  const response = await fetch(window.location.pathname, { credentials: "same-origin" });
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("material-list");
  if (fresh) document.getElementById("material-list").replaceWith(fresh);
}

function upload(file) {
  const why = refusal(file);
  if (why) {
    showError("file", why);
    return;
  }
  showError("file", "");
  const body = new FormData();
  body.append("title", titleInput.value.trim());
  body.append("file", file, file.name);
  const request = new XMLHttpRequest();
  request.open("POST", form.dataset.api);
  request.setRequestHeader("X-CSRF-Token", form.elements.csrf_token.value);
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) setProgress(Math.min(99, Math.floor((event.loaded / event.total) * 100)));
  });
  request.addEventListener("load", async () => {
    if (request.status === 201) {
      setProgress(100);
      progressText.textContent = messages.done;
      form.reset();
      await refreshList();
      return;
    }
    progressRow.hidden = true;
    let field = "file";
    let text = messages.failed;
    try {
      const error = JSON.parse(request.responseText).error;
      text = inLanguage(error.message);
      field = (error.details && error.details[0] && error.details[0].field) || "file";
    } catch (parseError) { /* not our JSON (a proxy's page): the generic message stays */ }
    showError(field, text);
  });
  request.addEventListener("error", () => {
    progressRow.hidden = true;
    showError("file", messages.failed);
  });
  setProgress(0);
  request.send(body);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (fileInput.files.length) upload(fileInput.files[0]);
  else fileInput.click();
});
fileInput.addEventListener("change", () => {
  if (fileInput.files.length) upload(fileInput.files[0]);
});
zone.addEventListener("dragover", (event) => {
  event.preventDefault();
  zone.classList.add("dragging");
});
zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("dragging");
  const files = event.dataTransfer.files;
  if (files.length !== 1) showError("file", messages.one_file);
  else upload(files[0]);
});
