// The meeting room page: the device check first (a pre-join panel, while the socket already
// connects), then joins over socket.io, publishes the checked camera and microphone, shows everyone
// else, and comes back by itself after a network drop (resume secret, docs/protocol.md §5). The
// secret also outlives a reload of the page (sessionStorage, this tab only): reloading within the
// grace period resumes the same participant, without the device check.
import { loadChoice, openLocalMedia, runDeviceCheck } from "./devices.js";
import { Grid } from "./grid.js";
import { pageConfig, setCatalog, t } from "./i18n.js";
import { LayerHints, showQuality } from "./layers.js";
import { alive, Publisher, QualityMeter, Subscriber } from "./media.js";
import { Review } from "./review.js";
import { Signaling, SignalingError } from "./signaling.js";

const QUALITY_INTERVAL_MS = 2000;
/** Meeting statuses whose room is open (server/signaling/admission.py OPEN_STATUSES). */
const OPEN_STATUSES = ["scheduled", "live"];
/** Join refusals that end the page's attempt: said in plain words, with the way back. */
const FINAL_REFUSALS = ["removed", "meeting_not_open", "meeting_not_found", "meeting_locked", "unauthenticated",
                        "bad_token", "token_expired", "token_used", "token_wrong_meeting"];
/** The kinds the chair can mute, and the i18n stem of the button that switches each locally. */
const TOGGLES = { audio: { id: "mic-toggle", stem: "room.controls.mic" }, video: { id: "camera-toggle", stem: "room.controls.camera" } };

/** The resume secret of this tab's participant in `meetingId`, kept across a reload of the page. */
const resumeStore = {
  key: (meetingId) => `lianshen.resume.${meetingId}`,
  get(meetingId) {
    try {
      return sessionStorage.getItem(this.key(meetingId));
    } catch {
      return null; // storage refused (privacy settings): a reload joins anew
    }
  },
  set(meetingId, secret) {
    try {
      if (secret) sessionStorage.setItem(this.key(meetingId), secret);
      else sessionStorage.removeItem(this.key(meetingId));
    } catch {
      // as above
    }
  },
};

class Room {
  constructor(config) {
    this.config = config;
    this.$ = (id) => document.getElementById(id);
    this.signaling = new Signaling(config.meeting_id);
    this.grid = new Grid(this.$("grid"), config, null);
    this.participantId = null;
    this.producers = [];
    this.locked = false;
    this.local = { stream: null, mode: "listen", problem: null };
    this.publisher = null;
    this.subscriber = null;
    this.pendingOffer = null;
    this.screenTrack = null;
    this.joined = false;
    /** The person pressed a join button: join as soon as the socket is (or comes) up. */
    this.wantJoin = false;
    this.ended = false;
    /** The kinds (audio, video) the chair has muted for us: our own buttons say so. */
    this.chairMuted = [];
    /** While a reloaded page tries its stored resume secret: resolves true (resumed) or false. */
    this.reloading = null;
    this.errors = [];
    /** Date.now() of each step of the first join, for the join benchmark and for support. */
    this.marks = { script: Date.now() };
    this.quality = new QualityMeter();
    this.layerHints = new LayerHints(this.signaling);
    this.received = [];
    this.review = new Review(this);
  }

  // -- start --------------------------------------------------------------------------

  async start() {
    this.setConnection("connecting");
    this.grid.audioBlocked = () => { this.$("enable-sound").hidden = false; };
    this.grid.onFirstRemoteFrame = () => this.firstFrame();
    this.wireEvents();
    if (!OPEN_STATUSES.includes(document.querySelector(".room").dataset.status)) {
      // ended (or cancelled) before this page opened: no device check for a closed room
      this.showRoom();
      this.end("room.refused.meeting_not_open", { minutes: true });
      return;
    }
    const secret = resumeStore.get(this.config.meeting_id);
    if (secret && await this.resumeAfterReload(secret)) return;
    // connect while the person checks the devices: pressing 加入 then only joins and publishes
    if (!this.signaling.socket.active) this.signaling.connect();
    const { clickedAt, choice, local } = await runDeviceCheck();
    this.marks.click = clickedAt;
    this.local = local;
    this.grid.speakerId = choice.speakerId || null;
    this.showRoom();
    this.wantJoin = true;
    if (this.signaling.connected) this.join(); // else the connect handler joins
    if (this.local.problem) this.toast(`${t(this.local.problem)} ${t(`room.device.mode.${this.local.mode}`)}`);
    this.enterRoom();
  }

  /** The page was reloaded while in the meeting: take the same participant back with the devices
   * chosen before (no device check). False when the grace period is over: then join anew. */
  async resumeAfterReload(secret) {
    const choice = loadChoice();
    this.local = await openLocalMedia(choice);
    this.grid.speakerId = choice.speakerId || null;
    const resumed = new Promise((resolve) => { this.reloading = resolve; });
    this.signaling.resumeSecret = secret;
    this.signaling.connect(); // the connect handler resumes
    if (await resumed) {
      this.showRoom();
      this.enterRoom();
      return true;
    }
    this.local.stream?.getTracks().forEach((track) => track.stop());
    this.local = { stream: null, mode: "listen", problem: null };
    return false;
  }

  /** A reload's resume attempt is over (`resumed` or not). */
  reloaded(resumed) {
    const resolve = this.reloading;
    this.reloading = null;
    if (resolve) resolve(resumed);
  }

  showRoom() {
    this.$("prejoin").hidden = true;
    document.querySelector(".room").hidden = false;
    this.$("room-title").focus();
  }

  /** In the room: its controls work and the network is watched. */
  enterRoom() {
    this.wireControls();
    this.qualityTimer = setInterval(() => this.sampleQuality(), QUALITY_INTERVAL_MS);
  }

  firstFrame() {
    this.firstRemoteFrameAt = Date.now();
    this.marks.frame = this.firstRemoteFrameAt;
    this.joinToFirstFrameMs = this.firstRemoteFrameAt - this.marks.click;
  }

  // -- joining and resuming ----------------------------------------------------------------

  async join() {
    let ack;
    this.marks.join ??= Date.now();
    try {
      ack = await this.signaling.request("join");
      this.marks.joined ??= Date.now();
    } catch (error) {
      if (error instanceof SignalingError && FINAL_REFUSALS.includes(error.code)) {
        this.end(`room.refused.${error.code}`, { minutes: error.code === "meeting_not_open" });
      } else this.fail(error);
      return;
    }
    if (ack.status === "lobby") {
      this.setConnection("lobby");
      return; // lobby_admitted makes us join again
    }
    if (ack.status === "redirect") {
      // Another node serves this person (their level's node, or the meeting's home): its room page.
      this.end("room.moved");
      window.location.assign(ack.room_url);
      return;
    }
    this.applySnapshot(ack);
    this.startMedia(ack.ice_servers);
  }

  async resume() {
    const keep = alive(this.publisher, this.subscriber) && !this.restartMedia;
    let ack;
    try {
      ack = await this.signaling.request("join", { resume: this.signaling.resumeSecret, keep_media: keep });
    } catch (error) {
      if (error instanceof SignalingError && error.code === "bad_resume") return this.startOver();
      if (this.reloading) return this.startOver(); // the reload joins anew, through the device check
      this.fail(error);
      return;
    }
    this.restartMedia = false;
    this.applySnapshot(ack);
    if (!ack.media_kept) {
      this.stopMedia();
      this.startMedia(ack.ice_servers);
    }
    this.reloaded(true);
  }

  /** The grace period ran out: join as a newcomer on a fresh connection. */
  startOver() {
    this.stopMedia();
    this.joined = false;
    this.signaling.resumeSecret = null;
    resumeStore.set(this.config.meeting_id, null);
    this.signaling.socket.disconnect();
    this.signaling.connect();
    this.reloaded(false);
  }

  applySnapshot(ack) {
    this.joined = true;
    this.participantId = ack.participant_id;
    this.signaling.resumeSecret = ack.resume_secret;
    resumeStore.set(this.config.meeting_id, ack.resume_secret);
    this.grid.setSelf(ack.participant_id);
    this.review.setChair(ack.capacity === "chair");
    document.body.dataset.capacity = ack.capacity;
    const present = new Set(ack.participants.map((p) => p.id));
    for (const id of [...this.grid.participants.keys()]) if (!present.has(id)) this.grid.remove(id);
    for (const participant of ack.participants) this.grid.upsert(participant);
    this.grid.showLocal(this.local.stream);
    if (this.screenTrack) this.grid.showLocalScreen(this.screenTrack);
    this.producers = ack.producers || [];
    this.grid.setSpeaker(ack.speaker);
    this.setLocked(ack.meeting.locked);
    this.review.renderLobby(ack.lobby || []);
    this.review.apply(ack.review);
    this.review.renderParticipants();
    this.setConnection("connected");
    this.syncPaused(ack.participants.find((p) => p.id === ack.participant_id));
  }

  /** The local tracks that can be switched off: {audio, video}. */
  localTracks() {
    const stream = this.local.stream;
    return { audio: stream ? stream.getAudioTracks()[0] : null, video: stream ? stream.getVideoTracks()[0] : null };
  }

  /** After a join or resume, tell the server what was switched off meanwhile (or before joining). */
  syncPaused(me) {
    for (const [kind, track] of Object.entries(this.localTracks())) {
      if (track && me && (me.paused || []).includes(kind) !== !track.enabled) this.sendPaused(kind, !track.enabled);
    }
  }

  /** A camera or microphone switched off or on: our tile at once, everyone else's via the server
   * (`pause`): they show a name card instead of black video, and "microphone off". */
  sendPaused(kind, paused) {
    const me = this.grid.participants.get(this.participantId);
    if (me) {
      const kinds = new Set(me.paused || []);
      if (paused) kinds.add(kind);
      else kinds.delete(kind);
      this.participantsChanged({ ...me, paused: [...kinds].sort() });
    }
    // while reconnecting, the resume's syncPaused sends it
    if (this.joined && this.signaling.connected) this.signaling.request("pause", { kind, paused }).catch((error) => this.fail(error));
  }

  startMedia(iceServers) {
    if (this.ended) return; // e.g. a resumed page learning from the snapshot that the meeting ended
    this.subscriber = new Subscriber(this.signaling, iceServers, (current) => {
      this.grid.setRemoteTracks(current);
      this.received = current;
      this.layerHints.update(current, this.grid);
    });
    this.publisher = new Publisher(this.signaling, iceServers);
    if (this.pendingOffer) {
      this.answer(this.pendingOffer);
      this.pendingOffer = null;
    }
    const stream = this.local.stream;
    const tracks = {
      audio: stream ? stream.getAudioTracks()[0] : null,
      video: stream ? stream.getVideoTracks()[0] : null,
      screen: this.screenTrack,
    };
    this.publisher.start(tracks).catch((error) => this.fail(error));
  }

  stopMedia() {
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    this.grid.setRemoteTracks([]);
  }

  answer(offer) {
    this.marks.offer ??= Date.now();
    if (!this.subscriber) {
      this.pendingOffer = offer; // arrived before the join ack was handled
      return;
    }
    this.subscriber.answer(offer).catch((error) => this.fail(error));
  }

  // -- server events -------------------------------------------------------------------

  wireEvents() {
    const s = this.signaling;
    s.on("connect", () => {
      this.marks.socket ??= Date.now();
      if (this.joined || this.reloading) this.resume();
      else if (this.wantJoin) this.join();
    });
    s.on("disconnect", (reason) => {
      if (this.ended || this.reloading || reason === "io client disconnect") return;
      this.setConnection("reconnecting");
    });
    s.on("connect_error", (error) => {
      const code = error && error.data && error.data.code;
      if (code === "bad_resume" || (this.signaling.resumeSecret && code === "unauthenticated")) this.startOver();
      else if (!s.socket.active) this.fail(new SignalingError((error && error.data) || { code: "connect_failed", message: t("room.connect_failed") }));
    });
    s.on("subscribe_offer", (offer) => this.answer(offer));
    s.on("participant_joined", ({ participant }) => this.participantsChanged(participant));
    s.on("participant_reconnected", ({ participant }) => this.participantsChanged(participant));
    s.on("participant_updated", ({ participant }) => this.participantsChanged(participant));
    s.on("participant_reconnecting", ({ participant_id: id }) => {
      const participant = this.grid.participants.get(id);
      if (participant) this.participantsChanged({ ...participant, status: "reconnecting" });
    });
    s.on("participant_left", ({ participant_id: id }) => {
      this.grid.remove(id);
      this.review.renderParticipants();
    });
    s.on("producer_added", ({ producer }) => this.producerChanged(producer, true));
    s.on("producer_updated", ({ producer }) => this.producerChanged(producer, true));
    s.on("producer_removed", ({ producer }) => this.producerChanged(producer, false));
    s.on("speaker_changed", ({ participant_id: id }) => this.grid.setSpeaker(id));
    s.on("meeting_locked", ({ locked }) => this.setLocked(locked));
    s.on("lobby_changed", ({ lobby }) => this.review.renderLobby(lobby));
    s.on("lobby_admitted", () => this.join());
    s.on("lobby_rejected", () => this.end("room.lobby_rejected"));
    s.on("muted", ({ kind, muted }) => this.toast(t(muted ? `room.muted_by_chair.${kind}` : `room.unmuted_by_chair.${kind}`)));
    s.on("screen_share_stopped", () => {
      this.stopScreen();
      this.toast(t("room.screen_stopped_by_chair"));
    });
    s.on("removed", ({ reason }) => this.end(`room.removed.${reason}`));
    s.on("media_failed", () => {
      this.restartMedia = true;
      this.signaling.dropTransport(); // reconnect and resume with fresh media connections
    });
    s.on("review_state", (state) => this.review.apply(state));
    s.on("chat_message", (message) => this.review.chatMessage(message));
    s.on("error", (error) => this.errors.push(error)); // also in each request's ack, shown there
  }

  participantsChanged(participant) {
    this.grid.upsert(participant);
    if (participant.id === this.participantId) {
      // the chair's mute holds on the server whatever the local track does: our own buttons say so
      const muted = participant.muted || [];
      this.chairMuted = muted;
      this.$("chair-muted").hidden = muted.length === 0;
      this.$("chair-muted").textContent = muted.length ? t(`room.muted_by_chair.${muted.includes("audio") ? "audio" : "video"}`) : "";
      document.body.dataset.chairMuted = muted.join(" ");
      for (const kind of Object.keys(TOGGLES)) this.renderToggle(kind);
    }
    this.review.renderParticipants();
    if (this.review.state) this.review.renderHands();
  }

  producerChanged(producer, present) {
    this.producers = this.producers.filter((p) => p.id !== producer.id);
    if (present) this.producers.push(producer);
    this.review.renderParticipants();
  }

  // -- controls ----------------------------------------------------------------------

  wireControls() {
    const $ = this.$;
    for (const kind of Object.keys(TOGGLES)) this.wireToggle(kind);
    $("screen-toggle").addEventListener("click", () => (this.screenTrack ? this.stopScreen() : this.shareScreen()));
    $("screen-toggle").hidden = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
    $("hand-toggle").addEventListener("click", () => this.review.toggleHand());
    $("leave").addEventListener("click", () => this.leave());
    $("enable-sound").addEventListener("click", () => {
      this.grid.resumeAudio();
      $("enable-sound").hidden = true;
    });
    $("local-mode").textContent = t(`room.device.mode.${this.local.mode}`);
  }

  /** The button that switches a local track (`kind`) on and off (aria-pressed = switched off). */
  wireToggle(kind) {
    this.$(TOGGLES[kind].id).addEventListener("click", () => {
      const track = this.localTracks()[kind];
      if (!track || this.chairMuted.includes(kind)) return;
      track.enabled = !track.enabled; // nothing of the camera or microphone is sent while off
      this.renderToggle(kind);
      this.sendPaused(kind, !track.enabled);
    });
    this.renderToggle(kind);
  }

  /** Muted by the chair is what the button says (and it cannot undo that: raising a hand asks). */
  renderToggle(kind) {
    const { id, stem } = TOGGLES[kind];
    const control = this.$(id);
    const track = this.localTracks()[kind];
    const byChair = this.chairMuted.includes(kind);
    const off = !track || !track.enabled;
    control.disabled = !track || byChair;
    control.dataset.chairMuted = String(byChair);
    control.setAttribute("aria-pressed", String(off || byChair));
    control.textContent = t(byChair ? `${stem}_chair_muted` : off ? `${stem}_off` : `${stem}_on`);
    control.title = byChair ? t("room.controls.chair_muted_hint") : "";
    if (kind === "audio" && this.review.state) this.review.renderHands();
  }

  async shareScreen() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      this.toast(t("room.screen_failed"));
      return;
    }
    const track = stream.getVideoTracks()[0];
    track.addEventListener("ended", () => this.stopScreen());
    this.screenTrack = track;
    this.grid.showLocalScreen(track);
    this.$("screen-toggle").setAttribute("aria-pressed", "true");
    this.$("screen-toggle").textContent = t("room.controls.screen_stop");
    try {
      await this.publisher.setTrack("screen", track);
    } catch (error) {
      this.fail(error);
    }
  }

  async stopScreen() {
    if (!this.screenTrack) return;
    this.screenTrack.stop();
    this.screenTrack = null;
    this.grid.showLocalScreen(null);
    this.$("screen-toggle").setAttribute("aria-pressed", "false");
    this.$("screen-toggle").textContent = t("room.controls.screen_start");
    if (this.publisher) await this.publisher.setTrack("screen", null).catch((error) => this.fail(error));
  }

  async leave() {
    this.ended = true;
    resumeStore.set(this.config.meeting_id, null);
    try {
      if (this.joined) await this.signaling.request("leave");
    } catch {
      // leaving anyway
    }
    this.signaling.close();
    this.stopMedia();
    this.local.stream?.getTracks().forEach((track) => track.stop());
    window.location.assign(`/meetings/${this.config.meeting_id}`);
  }

  /** The meeting is over for this page (removed, refused, ended, replaced by another tab): the
   * room view closes, so nothing looks alive any more: no tiles, no controls, no network badge;
   * one message says why, with the way back (and to the minutes when the meeting is over). */
  end(key, { minutes = false } = {}) {
    this.ended = true;
    this.reloaded(false);
    resumeStore.set(this.config.meeting_id, null);
    this.signaling.close();
    this.stopMedia();
    this.local.stream?.getTracks().forEach((track) => track.stop());
    this.screenTrack?.stop();
    clearInterval(this.qualityTimer);
    for (const id of [...this.grid.participants.keys()]) this.grid.remove(id); // tiles and screens
    for (const control of document.querySelectorAll(".room button, .room input, .room select, .room textarea")) control.disabled = true;
    this.setConnection("ended");
    this.toast("");
    this.$("ended-message").textContent = t(key);
    this.$("ended-minutes").hidden = !minutes;
    this.$("ended-back").focus();
  }

  /** The chair ended the meeting: on to its draft minutes (drafted before the end was answered). */
  toMinutes() {
    this.end("room.meeting.to_minutes", { minutes: true });
    window.location.assign(`/meetings/${this.config.meeting_id}/minutes`);
  }

  // -- status --------------------------------------------------------------------------

  setConnection(state) {
    if (this.ended && state !== "ended") return; // closed for good (an answer still on its way says nothing)
    document.body.dataset.connection = state;
    const status = this.$("connection-status");
    status.textContent = t(`room.connection.${state}`);
    this.$("reconnecting").hidden = state !== "reconnecting";
    this.$("ended").hidden = state !== "ended";
  }

  setLocked(locked) {
    this.locked = locked;
    this.$("locked").hidden = !locked;
    this.review.renderParticipants();
  }

  setRecording(recording) {
    this.$("recording").hidden = !recording;
    document.body.dataset.recording = String(recording);
  }

  async sampleQuality() {
    if (!this.publisher && !this.subscriber) return;
    // tiles move with layout changes and window sizes: the SFU hears of real changes only
    if (this.joined && this.signaling.connected) this.layerHints.update(this.received, this.grid);
    showQuality(this.grid, this.participantId);
    const { level, rtt_ms: rtt, loss_pct: loss } = await this.quality.sample([this.publisher, this.subscriber]);
    const node = this.$("quality");
    node.dataset.level = level;
    node.textContent = t(`room.quality.${level}`);
    node.title = rtt === null ? "" : t("room.quality.detail", { rtt, loss });
  }

  toast(text) {
    const node = this.$("toast");
    node.textContent = text;
    node.hidden = !text;
    this.review.fitDocument(); // a presented page makes room for the message (or takes it back)
  }

  fail(error) {
    console.error(error);
    const text = error && error.message ? error.message : String(error);
    this.toast(text);
    if (!this.$("prejoin").hidden) { // still on the device check: say it there (e.g. signed out meanwhile)
      this.$("device-message").textContent = text;
      this.$("device-message").hidden = false;
    }
  }
}

const config = pageConfig("room-config");
setCatalog(config);
const room = new Room(config);
window.__lianshen = room; // for the end-to-end tests and for support staff in the console
room.start();
