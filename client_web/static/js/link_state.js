// The chair's "线路状态 / Link state" panel: every site's network to the server (up and down kbps,
// loss, round trip, a coloured quality dot, and the simulcast layer it receives and sends), read from GET /api/v1/meetings/{id}/links every few
// seconds while the panel is open and the page is visible. The server decides the quality (its
// thresholds live in server/sfu/link_stats.py), so this page only shows what it is told.
import { t } from "./i18n.js";

const POLL_MS = 3000;

/** kbps as a whole number, or a dash before the second sample gives a rate. */
function kbps(value) {
  return value === null || value === undefined ? "–" : String(Math.round(value));
}

function percent(value) {
  return value === null || value === undefined ? "–" : (value * 100).toFixed(1);
}

/**
 * "2/3 (3)": the layer a site receives (from 1) of the layers sent, with the layer its tile wants
 * in brackets when the link holds it below; "↑3": how many layers the site itself sends.
 */
function layers(peer) {
  const down = peer.down_layer;
  let text = "–";
  if (down) {
    text = `${down.layer + 1}/${down.layers}`;
    if (down.wanted_layer !== null && down.wanted_layer > down.layer) text += ` (${down.wanted_layer + 1})`;
  }
  return peer.up_layers === null || peer.up_layers === undefined ? text : `${text} ↑${peer.up_layers}`;
}

function cell(text, className = "num") {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  return td;
}

export class LinkState {
  constructor(meetingId, lang) {
    this.url = `/api/v1/meetings/${meetingId}/links`;
    this.lang = lang;
    this.panel = document.getElementById("links-panel");
    this.rows = document.getElementById("links-rows");
    this.status = document.getElementById("links-status");
    this.timer = null;
    this.panel.addEventListener("toggle", () => this.schedule());
    document.addEventListener("visibilitychange", () => this.schedule());
  }

  /** Poll while the chair has the panel open on a visible page; stop otherwise. */
  schedule() {
    const wanted = this.panel.open && document.visibilityState === "visible"
      && document.body.classList.contains("is-chair");
    if (wanted && this.timer === null) {
      this.refresh();
      this.timer = setInterval(() => this.refresh(), POLL_MS);
    } else if (!wanted && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  async refresh() {
    let body;
    try {
      const response = await fetch(this.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      body = await response.json();
      if (!response.ok) throw new Error(body.error?.message || String(response.status));
    } catch (error) {
      this.status.textContent = t("room.links.failed", { reason: error.message });
      return;
    }
    this.show(body);
  }

  show(body) {
    const rows = body.peers.map((peer) => {
      const tr = document.createElement("tr");
      tr.dataset.peer = peer.peer_id;
      tr.dataset.quality = peer.quality;
      const name = document.createElement("td");
      name.className = "site";
      name.title = peer.name;
      const dot = document.createElement("span");
      dot.className = "quality";
      dot.dataset.level = peer.quality;
      dot.title = t(`room.links.quality.${peer.quality}`);
      dot.setAttribute("aria-label", dot.title);
      name.append(dot, document.createTextNode(peer.name));
      tr.append(name, cell(kbps(peer.up_kbps)), cell(kbps(peer.down_kbps)),
        cell(`${percent(peer.up_loss)}/${percent(peer.down_loss)}`),
        cell(peer.rtt_ms === null ? "–" : String(Math.round(peer.rtt_ms))), cell(layers(peer)));
      return tr;
    });
    this.rows.replaceChildren(...rows);
    if (!body.live) {
      this.status.textContent = t("room.links.not_live");
    } else if (rows.length === 0) {
      this.status.textContent = t("room.links.none");
    } else {
      const time = new Date(body.taken_at * 1000).toLocaleTimeString(this.lang === "zh" ? "zh-CN" : "en",
        { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      this.status.textContent = t("room.links.updated", { time });
    }
  }
}
