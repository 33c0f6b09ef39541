// The playback page: seek to ?t= and to chapters, highlight the current chapter, and run the
// composition (start it, then poll its status until it is done, then reload to show the video).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("playback-data").textContent);
  const t = (key) => data.messages[key] || key;
  const video = document.getElementById("playback-video");
  const POLL_MS = 1000;

  function seek(seconds) {
    if (!video) return;
    const go = () => { video.currentTime = seconds; };
    if (video.readyState >= 1) go(); else video.addEventListener("loadedmetadata", go, { once: true });
  }

  const chapters = Array.from(document.querySelectorAll("[data-seek]"));
  chapters.forEach((button) => button.addEventListener("click", () => {
    seek(Number(button.dataset.seek));
    if (video) video.play().catch(() => {});
  }));

  if (video) {
    if (data.start > 0) seek(data.start);
    video.addEventListener("timeupdate", () => {
      let current = null;
      for (const button of chapters) {
        if (Number(button.dataset.seek) <= video.currentTime + 0.05) current = button; else break;
      }
      chapters.forEach((b) => b.parentElement.classList.toggle("current", b === current));
    });
  }

  const button = document.getElementById("compose-button");
  const bar = document.getElementById("compose-progress");
  const state = document.getElementById("compose-state");

  function show(status) {
    if (!state) return;
    state.textContent = t("recordings.state." + status.state) + (status.message ? t("punct.colon") + status.message : "");
    if (bar) {
      bar.hidden = !(status.state === "queued" || status.state === "running");
      bar.value = status.progress || 0;
    }
    if (button) button.disabled = status.state === "queued" || status.state === "running";
  }

  async function poll() {
    try {
      const response = await fetch(data.statusUrl, { headers: { Accept: "application/json" } });
      const status = await response.json();
      if (!response.ok) { show({ state: "failed", message: status.error ? status.error.message : "" }); return; }
      show(status);
      if (status.state === "done") { window.location.reload(); return; }
      if (status.state === "queued" || status.state === "running") setTimeout(poll, POLL_MS);
    } catch (error) {
      show({ state: "failed", message: String(error) });
    }
  }

  if (button) {
    button.addEventListener("click", async () => {
      const force = button.dataset.force === "true";
      if (force && !window.confirm(t("recordings.confirm_recompose"))) return;
      button.disabled = true;
      const response = await fetch(data.statusUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-CSRF-Token": button.dataset.csrf },
        body: JSON.stringify({ force }),
      });
      const body = await response.json();
      if (!response.ok) { show({ state: "failed", message: body.error ? body.error.message : "" }); button.disabled = false; return; }
      show(body);
      setTimeout(poll, POLL_MS);
    });
  }
  if (data.compose.state === "queued" || data.compose.state === "running") setTimeout(poll, POLL_MS);
})();
