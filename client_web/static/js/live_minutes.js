// The live draft of the minutes in the room: the server builds it from the meeting's record with the
// minutes' own builder and renderer (server/signaling/live_minutes.py) and this page only shows it.
// It is asked for while the panel is open, and again when the server hints that the record moved on
// (`minutes_changed`: `events` on record, `draft` = events the newest draft holds); the server builds
// at most once per interval whoever asks, so the page asks freely.
import { t } from "./i18n.js";

export class LiveMinutes {
  constructor(review) {
    this.review = review;
    this.$ = review.$;
    this.shown = null; // events of the record the frame's draft holds
    this.asking = false;
    this.again = false;
    this.panel = this.$("minutes-panel");
    this.panel.addEventListener("toggle", () => {
      if (this.panel.open) this.refresh();
    });
    review.room.signaling.on("minutes_changed", (hint) => this.changed(hint));
  }

  changed(hint) {
    if (!this.panel.open) return;
    if (this.shown === null || hint.events > this.shown || (hint.draft ?? 0) > this.shown) this.refresh();
  }

  /** Ask for the draft; one request at a time, and one more if something changed meanwhile. */
  async refresh() {
    if (this.asking) {
      this.again = true;
      return;
    }
    this.asking = true;
    if (this.shown === null) this.$("minutes-status").textContent = t("room.minutes.loading");
    try {
      const draft = await this.review.ask("minutes_preview", { format: "html" }, "minutes-message");
      if (draft) this.show(draft);
    } finally {
      this.asking = false;
    }
    if (this.again) {
      this.again = false;
      this.refresh();
    }
  }

  show(draft) {
    const frame = this.$("minutes-draft");
    if (draft.events !== this.shown) {
      frame.srcdoc = draft.html; // a whole document, rendered as the minutes page renders it
      this.shown = draft.events;
    }
    frame.hidden = false;
    const time = new Date(draft.built_at).toLocaleTimeString(this.review.config.lang === "zh" ? "zh-CN" : "en",
      { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    this.$("minutes-status").textContent = t("room.minutes.updated", { time, events: draft.events })
      + (draft.stale ? ` ${t("room.minutes.updating")}` : "");
    this.panel.dataset.events = String(draft.events);
  }
}
