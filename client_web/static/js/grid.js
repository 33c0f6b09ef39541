// The video grid: one tile per participant (camera, or initials when there is no video), a large
// tile for a shared screen, the active speaker emphasised, columns adapted to the number of sites.
import { t } from "./i18n.js";

/** Column count that keeps tiles closest to 16:9 for `count` tiles. */
export function columnsFor(count) {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}

/** "县发改局 · 县 · 成员单位 · B岗（代A岗）": what a tile says besides the name. */
export function describe(participant, everyone, config) {
  const parts = [];
  const department = participant.department_id ? config.departments[participant.department_id] : null;
  parts.push(department ? department.short_name || department.name : participant.unit || "");
  if (department) parts.push(department.level_label);
  parts.push(t(`room.capacity.${participant.capacity}`));
  if (participant.post) {
    let post = config.labels.post[participant.post] || participant.post;
    const aPresent = everyone.some((p) => p.department_id === participant.department_id && p.post === "A");
    if (participant.post === "B" && !aPresent) post += t("punct.paren", { text: t("room.stands_in") });
    parts.push(post);
  }
  return parts.filter(Boolean).join(" · ");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function playing(video) {
  video.play().catch(() => {}); // muted video may always autoplay; a refusal means "not yet"
}

export class Grid {
  constructor(container, config, selfId) {
    this.container = container;
    this.config = config;
    this.selfId = selfId;
    this.participants = new Map();
    this.tiles = new Map(); // participant id -> tile parts
    this.screens = new Map(); // participant id -> screen tile parts
    this.speaker = null;
    this.speakerId = null;
    this.onFirstRemoteFrame = null;
    this.audioBlocked = null;
  }

  setSelf(id) {
    this.selfId = id;
  }

  everyone() {
    return [...this.participants.values()];
  }

  upsert(participant) {
    this.participants.set(participant.id, participant);
    let tile = this.tiles.get(participant.id);
    if (!tile) {
      const root = element("figure", "tile");
      root.dataset.participant = participant.id;
      root.tabIndex = 0;
      const video = element("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true;
      const avatar = element("div", "avatar");
      avatar.setAttribute("aria-hidden", "true");
      const caption = element("figcaption");
      const name = element("strong", "name");
      const meta = element("span", "meta");
      const flags = element("span", "flags");
      caption.append(name, meta, flags);
      const audio = element("audio");
      audio.autoplay = true;
      root.append(video, avatar, caption, audio);
      tile = { root, video, avatar, name, meta, flags, audio, stream: new MediaStream() };
      this.tiles.set(participant.id, tile);
      this.container.append(root);
    }
    // Everyone's labels depend on who else is present (代A岗), so refresh them all.
    for (const [id, other] of this.tiles) this.label(other, this.participants.get(id));
    this.layout();
  }

  label(tile, participant) {
    const self = participant.id === this.selfId;
    tile.name.textContent = self ? participant.display_name + t("punct.paren", { text: t("room.me") }) : participant.display_name;
    tile.meta.textContent = describe(participant, this.everyone(), this.config);
    tile.avatar.textContent = (participant.display_name || "?").slice(0, 1);
    const flags = [];
    const muted = participant.muted || [];
    const paused = participant.paused || [];
    if (participant.status === "reconnecting") flags.push(t("room.participant.reconnecting"));
    if (muted.includes("audio")) flags.push(t("room.participant.muted"));
    else if (paused.includes("audio")) flags.push(t("room.participant.mic_off"));
    // camera switched off (by its owner or the chair): a name card, never a black or frozen picture
    const cameraOff = paused.includes("video") || muted.includes("video");
    if (cameraOff) flags.push(t("room.participant.camera_off"));
    tile.flags.textContent = flags.join(" ");
    tile.root.classList.toggle("camera-off", cameraOff);
    tile.root.classList.toggle("reconnecting", participant.status === "reconnecting");
    tile.root.setAttribute("aria-label", [tile.name.textContent, tile.meta.textContent, ...flags].join(t("punct.list")));
  }

  remove(participantId) {
    this.participants.delete(participantId);
    this.tiles.get(participantId)?.root.remove();
    this.tiles.delete(participantId);
    this.screens.get(participantId)?.root.remove();
    this.screens.delete(participantId);
    for (const [id, tile] of this.tiles) this.label(tile, this.participants.get(id));
    this.layout();
  }

  /** Our own camera, muted, mirrored. */
  showLocal(stream) {
    const tile = this.tiles.get(this.selfId);
    if (!tile) return;
    tile.root.classList.add("self");
    const video = stream ? stream.getVideoTracks()[0] : null;
    tile.video.srcObject = video ? new MediaStream([video]) : null;
    tile.root.classList.toggle("has-video", Boolean(video));
    if (video) playing(tile.video);
  }

  /** Apply the subscriber's complete set of remote tracks [{producer, track}]. */
  setRemoteTracks(current) {
    const wanted = new Map(); // participant id -> {audio, video, screen}
    for (const { producer, track } of current) {
      if (!wanted.has(producer.participant_id)) wanted.set(producer.participant_id, {});
      wanted.get(producer.participant_id)[producer.kind] = track;
    }
    for (const [id, tile] of this.tiles) {
      if (id === this.selfId) continue;
      const tracks = wanted.get(id) || {};
      this.attach(tile, tracks.video, tracks.audio);
      this.setScreen(id, tracks.screen || null);
    }
  }

  attach(tile, videoTrack, audioTrack) {
    const currentVideo = tile.video.srcObject ? tile.video.srcObject.getVideoTracks()[0] : null;
    if (videoTrack !== currentVideo) {
      tile.video.srcObject = videoTrack ? new MediaStream([videoTrack]) : null;
      if (videoTrack) {
        playing(tile.video);
        this.watchFirstFrame(tile.video);
      }
    }
    tile.root.classList.toggle("has-video", Boolean(videoTrack));
    const currentAudio = tile.audio.srcObject ? tile.audio.srcObject.getAudioTracks()[0] : null;
    if (audioTrack !== currentAudio) {
      tile.audio.srcObject = audioTrack ? new MediaStream([audioTrack]) : null;
      if (audioTrack) {
        if (this.speakerId && tile.audio.setSinkId) tile.audio.setSinkId(this.speakerId).catch(() => {});
        tile.audio.play().catch(() => this.audioBlocked && this.audioBlocked());
      }
    }
  }

  watchFirstFrame(video) {
    if (!this.onFirstRemoteFrame || !video.requestVideoFrameCallback) return;
    video.requestVideoFrameCallback(() => {
      if (this.onFirstRemoteFrame) {
        const report = this.onFirstRemoteFrame;
        this.onFirstRemoteFrame = null;
        report();
      }
    });
  }

  /** Play every audio element again (after the person allowed sound with a click). */
  resumeAudio() {
    for (const tile of this.tiles.values()) if (tile.audio.srcObject) tile.audio.play().catch(() => {});
  }

  setScreen(participantId, track) {
    let screen = this.screens.get(participantId);
    if (!track) {
      if (screen) {
        screen.root.remove();
        this.screens.delete(participantId);
        this.layout();
      }
      return;
    }
    if (!screen) {
      const root = element("figure", "tile screen stage");
      root.dataset.screen = participantId;
      root.tabIndex = 0;
      const video = element("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true;
      const caption = element("figcaption");
      root.append(video, caption);
      screen = { root, video, caption };
      this.screens.set(participantId, screen);
      this.container.prepend(root);
    }
    const owner = this.participants.get(participantId);
    screen.caption.textContent = t("room.screen_of", { name: owner ? owner.display_name : "" });
    screen.root.setAttribute("aria-label", screen.caption.textContent);
    if (!screen.video.srcObject || screen.video.srcObject.getVideoTracks()[0] !== track) {
      screen.video.srcObject = new MediaStream([track]);
      playing(screen.video);
    }
    this.layout();
  }

  /** Our own shared screen, shown large to us as well. */
  showLocalScreen(track) {
    this.setScreen(this.selfId, track);
  }

  setSpeaker(participantId) {
    this.speaker = participantId;
    for (const [id, tile] of this.tiles) {
      const speaking = id === participantId;
      tile.root.classList.toggle("speaking", speaking);
      if (speaking) tile.root.dataset.speaking = "true";
      else delete tile.root.dataset.speaking;
    }
    this.layout();
  }

  layout() {
    const presenting = this.screens.size > 0 || this.container.querySelector(".tile.document") !== null;
    this.container.classList.toggle("presenting", presenting);
    const count = this.tiles.size;
    this.container.style.setProperty("--cols", String(presenting ? Math.max(count, 1) : columnsFor(count)));
    this.container.dataset.count = String(count);
    // the active speaker first among cameras, so it stays in view on small screens
    const speakerTile = this.tiles.get(this.speaker);
    for (const tile of this.tiles.values()) tile.root.style.order = tile === speakerTile ? "0" : "1";
  }
}
