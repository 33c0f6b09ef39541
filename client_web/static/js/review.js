// The conduct of the review around the video: agenda, raised hands, chat, participants with the
// chair's moderation, departments' opinions (and their confirmation as the live draft minutes print
// them, live_minutes.js), decisions and tasks, and the presented PDF. Everything
// here renders the server's `review_state` snapshot (the server decides; the page only asks), so a
// page that missed an event is right again with the next snapshot.
import { t } from "./i18n.js";
import { LinkState } from "./link_state.js";
import { LiveMinutes } from "./live_minutes.js";
import { SignalingError } from "./signaling.js";
import { firstOverLimit, limitField, recount, showProblem } from "./text_limits.js";

const OPINION_KINDS = ["agree", "agree_in_principle", "conditional", "disagree", "refer_upward"];
/** pdf.js's modern build needs the newest JavaScript (e.g. Map.prototype.getOrInsertComputed);
 * browsers without it (older Firefox, Edge, Safari) get its legacy build, which carries polyfills. */
const PDFJS = typeof Map.prototype.getOrInsertComputed === "function" && typeof Promise.withResolvers === "function"
  ? "/vendor/pdfjs" : "/vendor/pdfjs-legacy";

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Empty a field whose text was accepted (and its counter with it). */
function clearText(field) {
  field.value = "";
  recount(field);
}

function button(label, onclick, attributes = {}) {
  return element("button", { type: "button", text: label, onclick, ...attributes });
}

/** Client-side hints for an opinion (the server validates again): the i18n key of the first gap. */
export function opinionProblem(opinion) {
  if (!OPINION_KINDS.includes(opinion.kind)) return "room.opinion.need_kind";
  if (opinion.kind === "conditional" && opinion.conditions.length === 0) return "room.opinion.need_conditions";
  if (opinion.kind === "disagree" && !opinion.reasons) return "room.opinion.need_reasons";
  if (opinion.kind === "disagree" && !opinion.legal_basis) return "room.opinion.need_legal_basis";
  if (opinion.kind === "refer_upward" && !opinion.refer_to) return "room.opinion.need_refer_to";
  for (const material of opinion.materials) {
    if (!Number.isInteger(material.due_working_days) || material.due_working_days < 1) return "room.opinion.need_due";
  }
  return null;
}

export class Review {
  constructor(room) {
    this.room = room;
    this.config = room.config;
    this.state = null;
    this.$ = (id) => document.getElementById(id);
    this.isChair = false;
    this.pdf = null;
    this.wire();
    this.minutes = new LiveMinutes(this);
    this.links = new LinkState(this.config.meeting_id, this.config.lang);
  }

  get me() {
    return this.room.participantId;
  }

  /** Send a request; a refusal is shown where the person looks: next to the field it names
   * (`fields` maps payload paths such as "reasons" or "materials.0.detail" to element ids), else in
   * `messageTarget`, else as a toast. The fields keep their text either way. */
  async ask(event, payload, messageTarget = null, fields = {}) {
    try {
      const ack = await this.room.signaling.request(event, payload);
      if (messageTarget) this.say(messageTarget, "");
      for (const id of Object.values(fields)) showProblem(this.$(id), "");
      return ack;
    } catch (error) {
      if (!(error instanceof SignalingError)) throw error;
      const path = error.details?.field ?? error.details?.fields?.[0]?.field;
      const id = path && (fields[path] ?? fields[path.split(".")[0]]);
      if (id) {
        showProblem(this.$(id), error.message);
        this.$(id).focus();
        if (messageTarget) this.say(messageTarget, "");
      } else if (messageTarget) this.say(messageTarget, error.message);
      else this.room.toast(error.message);
      return null;
    }
  }

  say(target, text) {
    const node = this.$(target);
    node.textContent = text;
    node.hidden = !text;
  }

  wire() {
    const $ = this.$;
    $("chat-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("chat-input");
      const text = input.value.trim();
      if (!text) return;
      if (await this.ask("chat_send", { text }, "chat-message", { text: "chat-input" })) clearText(input);
    });
    $("chat-toggle").addEventListener("click", () =>
      this.ask("chat_enable", { enabled: !(this.state && this.state.chat_enabled) }));
    $("hand-next").addEventListener("click", () => this.ask("hand_next", {}));
    $("opinion-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitOpinion();
    });
    $("opinion-kind").addEventListener("change", () => this.showOpinionFields());
    $("material-add").addEventListener("click", () => this.addMaterialRow());
    $("decision-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = $("decision-text").value.trim();
      if (text && await this.ask("decision_record", { item_id: this.state?.open_item_id ?? null, text },
                                 "decision-message", { text: "decision-text" })) {
        clearText($("decision-text"));
      }
    });
    $("task-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const payload = {
        department_code: $("task-department").value,
        item_id: this.state?.open_item_id ?? null,
        text: $("task-text").value.trim(),
        due_working_days: Number.parseInt($("task-due").value, 10),
      };
      const fields = { department_code: "task-department", text: "task-text", due_working_days: "task-due" };
      if (await this.ask("task_assign", payload, "task-message", fields)) clearText($("task-text"));
    });
    $("lock-toggle").addEventListener("click", () =>
      this.ask("moderate", { action: this.room.locked ? "unlock" : "lock" }));
    $("recording-toggle").addEventListener("click", () =>
      this.ask(this.state && this.state.recording ? "recording_stop" : "recording_start", {}));
    $("meeting-start").addEventListener("click", () => this.ask("meeting_start", {}));
    $("meeting-end").addEventListener("click", () => {
      // one dialog both confirms the end and takes the optional closing summary (null: cancelled)
      const note = window.prompt(t("room.meeting.end_confirm"), "");
      if (note === null) return;
      // the end is answered once the draft minutes exist: the chair goes on to them
      this.ask("meeting_end", { note: note.trim() }).then((ack) => { if (ack) this.room.toMinutes(); });
    });
    $("presentation-prev").addEventListener("click", () => this.turn(-1));
    $("presentation-next").addEventListener("click", () => this.turn(1));
    $("presentation-close").addEventListener("click", () => this.ask("presentation_close", {}));
    document.addEventListener("keydown", (event) => this.pageKey(event));
    // the page is drawn to fit its panel: drawn again when the window (and so the panel) changes
    window.addEventListener("resize", () => {
      delete $("document-viewer").dataset.page;
      if (this.state) this.renderPresentation();
    });
    $("presenter-panel").addEventListener("toggle", () => {
      // materials uploaded during the meeting appear when the presenter opens the panel
      if ($("presenter-panel").open && this.isPresenter()) this.loadMaterials().catch(() => {});
    });
    this.fillDepartments();
    this.showOpinionFields();
    this.addMaterialRow();
  }

  setChair(isChair) {
    this.isChair = isChair;
    document.body.classList.toggle("is-chair", isChair);
    this.links.schedule();
  }

  fillDepartments() {
    const departments = Object.values(this.config.departments);
    for (const department of departments) {
      this.$("task-department").append(element("option", { value: department.code, text: department.name + t("punct.paren", { text: department.level_label }) }));
    }
    // 需转报上级 goes to a province or city department: suggested, but any authority may be named
    for (const department of departments.filter((d) => d.level === "province" || d.level === "city")) {
      this.$("higher-authorities").append(element("option", { value: department.code, label: department.name + t("punct.paren", { text: department.level_label }) }));
    }
  }

  /** A department's name by its code (a referral may name an authority the page does not know). */
  departmentName(code) {
    const department = Object.values(this.config.departments).find((d) => d.code === code);
    return department ? department.name : code;
  }

  // -- the snapshot -------------------------------------------------------------

  apply(state) {
    if (!state) return;
    this.state = state;
    document.body.dataset.reviewReady = "true";
    this.room.setRecording(Boolean(state.recording));
    this.$("recording-toggle").textContent = t(state.recording ? "room.mod.record_stop" : "room.mod.record_start");
    this.$("recording-toggle").setAttribute("aria-pressed", String(Boolean(state.recording)));
    this.renderAgenda();
    this.renderHands();
    this.renderChatState();
    this.renderOpinions();
    this.renderDecisions();
    this.renderPresentation();
    this.renderParticipants();
    this.renderMeetingStatus();
  }

  /** The chair opens the meeting and ends it; everyone sees where it stands. Before the first
   * start the record has no status yet (null): the meeting has not started. */
  renderMeetingStatus() {
    const status = this.state.meeting_status || "scheduled";
    const badge = this.$("meeting-status");
    badge.hidden = false;
    badge.dataset.status = status;
    badge.textContent = t(`room.meeting.${status === "live" || status === "scheduled" ? status : "ended"}`);
    this.$("meeting-start").hidden = !(this.isChair && status === "scheduled");
    this.$("meeting-end").hidden = !(this.isChair && status === "live");
    this.renderPreMeeting();
    // the chair's own page goes to the draft minutes when its 结束会议 is answered (Room.toMinutes)
    if (!["scheduled", "live"].includes(status) && !this.isChair && !this.room.ended) {
      this.room.end("room.meeting.ended_notice", { minutes: true });
    }
  }

  /** Before 开始会议 everyone waits, told so; the chair sees who is waiting. */
  renderPreMeeting() {
    const banner = this.$("pre-meeting");
    const waiting = (this.state.meeting_status || "scheduled") === "scheduled";
    banner.hidden = !waiting;
    if (!waiting) return;
    const others = this.room.grid.everyone().filter((p) => p.id !== this.me).map((p) => p.display_name);
    if (!this.isChair) banner.textContent = t("room.meeting.waiting");
    else if (others.length === 0) banner.textContent = t("room.meeting.waiting_nobody");
    else banner.textContent = t("room.meeting.waiting_chair", { n: others.length, names: others.join(t("punct.list")) });
  }

  name(participantId) {
    const participant = this.room.grid.participants.get(participantId);
    return participant ? participant.display_name : t("room.someone");
  }

  renderAgenda() {
    const list = this.$("agenda-list");
    list.replaceChildren(...this.state.items.map((item) => {
      const status = element("span", { className: `badge ${item.status === "open" ? "ok" : ""}`,
                                       text: t(`room.agenda.${item.status}`) });
      const actions = [];
      if (this.isChair && item.status === "pending" && this.state.open_item_id === null) {
        actions.push(button(t("room.agenda.open_item"), () => this.ask("agenda_open", { item_id: item.id })));
      }
      if (this.isChair && item.status === "open") {
        actions.push(button(t("room.agenda.close_item"), () => this.ask("agenda_close", { item_id: item.id })));
      }
      return element("li", { "data-item": item.id, "aria-current": item.status === "open" ? "step" : false },
        element("span", { className: "code", text: item.project_code }), " ",
        element("strong", { text: item.item_name }), " ",
        element("span", { className: "muted", text: item.department_name }), " ", status, ...actions);
    }));
    const open = this.state.items.find((item) => item.id === this.state.open_item_id);
    this.$("open-item").textContent = open ? open.item_name + t("punct.paren", { text: open.department_name }) : t("room.agenda.none_open");
  }

  renderHands() {
    const hands = this.state.hands || [];
    // the <ol> numbers the queue; a muted person's hand asks to speak, and the chair's unmute answers it
    this.$("hand-queue").replaceChildren(...hands.map((id) => {
      const muted = (this.room.grid.participants.get(id)?.muted || []).includes("audio");
      const unmute = this.isChair && muted
        ? button(t("room.mod.unmute"), () => this.ask("moderate", { action: "unmute", participant_id: id, kind: "audio" }),
          { "aria-label": `${t("room.mod.unmute")} ${this.name(id)}` })
        : null;
      return element("li", { "data-participant": id, "data-muted": String(muted) },
        element("span", { className: "name", text: this.name(id) }),
        muted ? element("span", { className: "muted", text: ` · ${t("room.hands.muted")}` }) : null, unmute);
    }));
    this.$("hand-empty").hidden = hands.length > 0;
    this.$("hand-next").hidden = !this.isChair;
    this.$("hand-next").disabled = hands.length === 0;
    this.$("floor").textContent = this.state.floor ? t("room.hands.floor", { name: this.name(this.state.floor) }) : "";
    const raised = hands.includes(this.me);
    const toggle = this.$("hand-toggle");
    toggle.setAttribute("aria-pressed", String(raised));
    const askToSpeak = this.room.chairMuted.includes("audio");
    toggle.textContent = t(raised ? "room.hands.lower" : askToSpeak ? "room.hands.ask_to_speak" : "room.hands.raise");
  }

  toggleHand() {
    const raised = (this.state?.hands || []).includes(this.me);
    return this.ask(raised ? "hand_lower" : "hand_raise", raised ? {} : { purpose: "" });
  }

  renderChatState() {
    const enabled = this.state.chat_enabled;
    this.$("chat-input").disabled = !enabled && !this.isChair;
    this.$("chat-send").disabled = !enabled && !this.isChair;
    this.$("chat-disabled").hidden = enabled;
    this.$("chat-toggle").hidden = !this.isChair;
    this.$("chat-toggle").textContent = t(enabled ? "room.chat.disable" : "room.chat.enable");
  }

  chatMessage(message) {
    const when = new Date(message.ts ? (typeof message.ts === "number" ? message.ts * 1000 : message.ts) : Date.now());
    const time = Number.isNaN(when.getTime()) ? "" : when.toLocaleTimeString(this.config.lang === "zh" ? "zh-CN" : "en", { hour: "2-digit", minute: "2-digit" });
    const log = this.$("chat-log");
    log.append(element("li", { "data-from": message.participant_id },
      element("strong", { text: message.display_name }), " ",
      element("time", { className: "muted", text: time }), element("br"),
      element("span", { className: "text", text: message.text })));
    log.scrollTop = log.scrollHeight;
  }

  // -- opinions ---------------------------------------------------------------------

  mayGiveOpinion() {
    const me = this.config.me;
    const participant = this.room.grid.participants.get(this.me);
    return me.role === "chief_rep" && participant && participant.capacity === "member";
  }

  renderOpinions() {
    const open = this.state.open_item_id;
    const opinions = (this.state.opinions || {})[open] || [];
    const all = Object.entries(this.state.opinions || {}).flatMap(([itemId, list]) =>
      list.map((opinion) => ({ ...opinion, item_id: Number(itemId) })));
    this.$("opinion-list").replaceChildren(...all.map((o) => {
      const item = this.state.items.find((i) => i.id === o.item_id);
      const details = [];
      if (o.conditions && o.conditions.length) details.push(element("div", { className: "conditions", text: t("room.opinion.conditions") + t("punct.colon") + o.conditions.join(t("punct.semicolon")) }));
      if (o.reasons) details.push(element("div", { text: t("room.opinion.reasons") + t("punct.colon") + o.reasons }));
      if (o.legal_basis) details.push(element("div", { text: t("room.opinion.legal_basis") + t("punct.colon") + o.legal_basis }));
      if (o.refer_to) details.push(element("div", { className: "refer-to", text: t("room.opinion.refer_to") + t("punct.colon") + this.departmentName(o.refer_to) }));
      for (const m of o.materials || []) {
        details.push(element("div", { text: `${t("room.opinion.material")}${t("punct.colon")}${m.material}${m.detail ? t("punct.paren", { text: m.detail }) : ""} · ${t("room.opinion.due_days", { days: m.due_working_days })}` }));
      }
      return element("li", { "data-opinion": o.opinion_id, "data-kind": o.kind },
        element("strong", { text: o.department_name }), " ",
        element("span", { className: "badge", text: this.opinionLabel(o) }), " ",
        element("span", { className: "muted", text: `${item ? item.item_name : ""} · ${o.by} · ${o.post === "B" ? t("room.stands_in") : ""} ${t("room.opinion.revision", { n: o.revision })}` }),
        ...details);
    }));
    this.$("opinion-empty").hidden = all.length > 0;
    this.renderOpinionForm();
    const mine = opinions.find((o) => this.myDepartmentCode() === o.department_code);
    this.$("amendment-row").hidden = !mine;
    this.$("amendment-reason").required = Boolean(mine);
    this.renderConfirmations();
  }

  /** An opinion's kind in the page's language (the record's kind_label is the minutes' Chinese). */
  opinionLabel(o) {
    return this.config.labels.opinion[o.kind] || o.kind_label;
  }

  myDepartmentCode() {
    return this.config.departments[this.config.me.department_id]?.code ?? null;
  }

  /** The department's own opinions, each as the draft prints it, to confirm in the room (the same
   * people as may give them: A, or B while A is away). A confirmation names the revision read;
   * an amendment asks again. */
  renderConfirmations() {
    const code = this.myDepartmentCode();
    const own = this.mayGiveOpinion() && code ? Object.entries(this.state.opinions || {}).flatMap(([itemId, list]) =>
      list.filter((o) => o.department_code === code).map((o) => ({ ...o, item_id: Number(itemId) }))) : [];
    this.$("minutes-confirm").hidden = own.length === 0;
    const over = this.state.meeting_status && !["scheduled", "live"].includes(this.state.meeting_status);
    const blocked = Boolean(this.aPostPresent()) || over;
    this.$("minutes-confirm-list").replaceChildren(...own.map((o) => {
      const item = this.state.items.find((i) => i.id === o.item_id);
      const confirmed = o.confirmed && o.confirmed.revision === o.revision;
      const status = confirmed
        ? element("span", { className: "badge ok", text: t("room.minutes.confirmed", { n: o.revision, by: o.confirmed.by }) })
        : button(t("room.minutes.confirm", { n: o.revision }), async () => {
          if (await this.ask("opinion_confirm", { opinion_id: o.opinion_id, revision: o.revision }, "minutes-confirm-message")) {
            this.say("minutes-confirm-message", t("room.minutes.confirm_done"));
          }
        }, { disabled: blocked, "aria-label": `${t("room.minutes.confirm", { n: o.revision })} ${item ? item.item_name : ""}` });
      return element("li", { "data-opinion": o.opinion_id, "data-confirmed": confirmed ? "true" : "false" },
        element("strong", { text: item ? item.item_name : "" }), " ",
        element("span", { className: "badge", text: this.opinionLabel(o) }), " ", status,
        element("span", { className: "opinion-text muted", text: [o.text, ...(o.conditions || [])].filter(Boolean).join(t("punct.semicolon")) }));
    }));
  }

  /** For a B post: the department's A post in the room, if any (B acts only while A is away; the
   * server refuses otherwise, the page says so before anyone fills the form). */
  aPostPresent() {
    const me = this.config.me;
    if (me.post !== "B" || me.department_id === null) return null;
    return this.room.grid.everyone().find((p) => p.department_id === me.department_id && p.post === "A") || null;
  }

  /** The form is open while an item is under review in a meeting not yet ended, to someone who may
   * speak for the department now (it follows who is in the room too). */
  renderOpinionForm() {
    const open = this.state.open_item_id;
    const aPost = this.aPostPresent();
    const over = this.state.meeting_status && !["scheduled", "live"].includes(this.state.meeting_status);
    this.$("opinion-section").hidden = !this.mayGiveOpinion();
    this.$("opinion-form").querySelector("fieldset").disabled = !open || Boolean(aPost) || over;
    this.$("opinion-closed").hidden = Boolean(open);
    this.say("opinion-a-post", aPost ? t("room.opinion.a_post_present", { name: aPost.display_name }) : "");
  }

  showOpinionFields() {
    const kind = this.$("opinion-kind").value;
    this.$("conditions-row").hidden = kind !== "conditional";
    this.$("refusal-rows").hidden = kind !== "disagree";
    this.$("refer-row").hidden = kind !== "refer_upward";
    this.$("conditions").required = kind === "conditional";
    this.$("reasons").required = false; // hinted by us and validated by the server, not blocked by the browser
  }

  addMaterialRow() {
    const rows = this.$("material-rows");
    const n = rows.children.length + 1;
    const name = element("input", { id: `material-${n}`, name: "material", maxlength: rows.dataset.materialLimit });
    const detail = element("input", { id: `material-detail-${n}`, name: "material_detail", maxlength: rows.dataset.detailLimit });
    rows.append(element("div", { className: "material-row", role: "group", "aria-label": t("room.opinion.material_n", { n }) },
      element("label", { text: t("room.opinion.material"), for: `material-${n}` }), name,
      element("label", { text: t("room.opinion.material_detail"), for: `material-detail-${n}` }), detail,
      element("label", { text: t("room.opinion.material_due"), for: `material-due-${n}` }),
      element("input", { id: `material-due-${n}`, name: "material_due", type: "number", min: "1", max: "60", inputmode: "numeric" })));
    limitField(name);
    limitField(detail);
  }

  /** The opinion to send, and which field each part of it came from (to show a refusal there). */
  readOpinion() {
    const $ = this.$;
    const lines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);
    const rows = [...$("material-rows").children].filter((row) => row.querySelector('[name="material"]').value.trim());
    const materials = rows.map((row) => ({
      material: row.querySelector('[name="material"]').value.trim(),
      detail: row.querySelector('[name="material_detail"]').value.trim(),
      due_working_days: Number.parseInt(row.querySelector('[name="material_due"]').value, 10),
    }));
    const fields = { text: "opinion-text", conditions: "conditions", reasons: "reasons", legal_basis: "legal-basis",
                     refer_to: "refer-to", amendment_reason: "amendment-reason",
                     materials: rows.length ? rows[0].querySelector('[name="material"]').id : "material-1" };
    rows.forEach((row, index) => {
      fields[`materials.${index}.material`] = row.querySelector('[name="material"]').id;
      fields[`materials.${index}.detail`] = row.querySelector('[name="material_detail"]').id;
      fields[`materials.${index}.due_working_days`] = row.querySelector('[name="material_due"]').id;
    });
    const opinion = {
      item_id: this.state.open_item_id,
      kind: $("opinion-kind").value,
      text: $("opinion-text").value.trim(),
      conditions: $("opinion-kind").value === "conditional" ? lines($("conditions").value) : [],
      reasons: $("opinion-kind").value === "disagree" ? $("reasons").value.trim() : "",
      legal_basis: $("opinion-kind").value === "disagree" ? $("legal-basis").value.trim() : "",
      materials: materials.map((m) => (m.detail ? m : { material: m.material, due_working_days: m.due_working_days })),
    };
    if (opinion.kind === "refer_upward") opinion.refer_to = $("refer-to").value.trim();
    if (!$("amendment-row").hidden) opinion.amendment_reason = $("amendment-reason").value.trim();
    return { opinion, fields };
  }

  async submitOpinion() {
    const tooLong = firstOverLimit(this.$("opinion-form"));
    if (tooLong) {
      this.say("opinion-message", t("room.opinion.too_long"));
      tooLong.focus();
      return;
    }
    const { opinion, fields } = this.readOpinion();
    const problem = opinionProblem(opinion);
    if (problem) {
      this.say("opinion-message", t(problem));
      return;
    }
    if (await this.ask("opinion_submit", opinion, "opinion-message", fields)) {
      this.say("opinion-message", "");
      this.$("opinion-done").textContent = t("room.opinion.recorded");
    }
  }

  renderDecisions() {
    const decisions = this.state.decisions || [];
    const tasks = this.state.tasks || [];
    this.$("decision-list").replaceChildren(
      ...decisions.map((d) => element("li", { text: d.text })),
      ...tasks.map((task) => element("li", { className: "task", text: `${t("room.task.label")}${t("punct.colon")}${task.department_name || task.department_code} · ${task.text} · ${t("room.opinion.due_days", { days: task.due_working_days })}` })));
  }

  // -- participants and moderation ------------------------------------------------------

  renderParticipants() {
    const room = this.room;
    const list = this.$("participant-list");
    const screens = new Set(room.producers.filter((p) => p.kind === "screen").map((p) => p.participant_id));
    if (this.state) this.renderPreMeeting();
    list.replaceChildren(...room.grid.everyone().map((p) => {
      const actions = [];
      if (this.isChair && p.id !== this.me) {
        const muted = (p.muted || []).includes("audio");
        actions.push(button(t(muted ? "room.mod.unmute" : "room.mod.mute"),
          () => this.ask("moderate", { action: muted ? "unmute" : "mute", participant_id: p.id, kind: "audio" }),
          { "aria-label": `${t(muted ? "room.mod.unmute" : "room.mod.mute")} ${p.display_name}` }));
        if (screens.has(p.id)) {
          actions.push(button(t("room.mod.stop_share"), () => this.ask("moderate", { action: "stop_screen_share", participant_id: p.id }),
            { "aria-label": `${t("room.mod.stop_share")} ${p.display_name}` }));
        }
        actions.push(button(t("room.mod.presenter"), () => this.ask("presenter_set", { participant_id: p.id }),
          { "aria-label": `${t("room.mod.presenter")} ${p.display_name}` }));
        actions.push(button(t("room.mod.remove"), () => {
          if (window.confirm(t("room.mod.remove_confirm", { name: p.display_name }))) {
            this.ask("moderate", { action: "remove", participant_id: p.id });
          }
        }, { "aria-label": `${t("room.mod.remove")} ${p.display_name}`, className: "danger" }));
      }
      const presenter = this.state && this.state.presenter === p.id ? ` · ${t("room.presenter")}` : "";
      return element("li", { "data-participant": p.id },
        element("strong", { text: p.display_name }), " ",
        element("span", { className: "muted", text: `${p.unit || ""}${presenter}` }), " ", ...actions);
    }));
    if (this.state) {
      this.renderOpinionForm();
      this.renderConfirmations();
    }
    this.$("lock-toggle").hidden = !this.isChair;
    this.$("lock-toggle").textContent = t(room.locked ? "room.mod.unlock" : "room.mod.lock");
    this.$("lock-toggle").setAttribute("aria-pressed", String(room.locked));
  }

  renderLobby(lobby) {
    const section = this.$("lobby");
    section.hidden = !this.isChair || lobby.length === 0;
    this.$("lobby-list").replaceChildren(...lobby.map((entry) => element("li", {},
      element("strong", { text: entry.display_name }), " ", element("span", { className: "muted", text: entry.unit || "" }), " ",
      button(t("room.mod.admit"), () => this.ask("moderate", { action: "admit", lobby_id: entry.id })),
      button(t("room.mod.reject"), () => this.ask("moderate", { action: "reject", lobby_id: entry.id })))));
  }

  // -- presentation (page-synchronised PDF) -----------------------------------------------

  isPresenter() {
    return this.state && this.state.presenter === this.me;
  }

  async loadMaterials() {
    const list = this.$("material-list");
    const materials = [];
    for (const caseId of this.config.case_ids || []) {
      const response = await fetch(`/api/v1/cases/${caseId}/materials`, { credentials: "same-origin" });
      if (response.ok) materials.push(...await response.json());
    }
    list.replaceChildren(...materials.map((m) => element("li", {},
      button(m.title + t("punct.paren", { text: t("room.presentation.pages", { n: m.page_count }) }), () => this.ask("presentation_open", { material_id: m.id })))));
    this.$("material-empty").hidden = materials.length > 0;
  }

  renderPresentation() {
    const presentation = this.state.presentation;
    const presenter = this.isPresenter();
    this.$("presenter-tools").hidden = !presenter;
    if (presenter && !this.wasPresenter) this.becamePresenter();
    this.wasPresenter = presenter;
    const viewer = this.$("document-viewer");
    viewer.hidden = !presentation;
    viewer.closest(".stage").classList.toggle("with-document", Boolean(presentation));
    this.fitDocument();
    this.room.grid.layout();
    this.$("presentation-controls").hidden = !(presentation && presenter);
    if (!presentation) {
      this.pdf = null;
      delete viewer.dataset.page;
      delete viewer.dataset.material;
      return;
    }
    this.$("presentation-title").textContent = `${presentation.title} · ${presentation.page}/${presentation.page_count}`;
    // one drawing at a time on the canvas, each showing the newest state (pages may turn quickly)
    this.drawing = (this.drawing || Promise.resolve()).then(() => this.drawPresentation());
  }

  /** Asked to present (or presenting by default, as the applicant): told so, and the materials
   * panel opens in view, its list loaded. */
  becamePresenter() {
    const panel = this.$("presenter-panel");
    this.room.toast(t("room.presentation.you_present"));
    if (panel.open) this.loadMaterials().catch(() => {});
    else panel.open = true; // its toggle handler loads the list
    const side = panel.closest(".side"); // scrolled within its column: the page itself stays put
    side.scrollTo({ top: panel.offsetTop - side.offsetTop });
  }

  /** The presented page's box takes the window's height left under what is above it (banners come
   * and go) and above the room's controls, so the page, its 上一页/下一页 and the controls are all in
   * view without scrolling; the page is drawn to the box (drawPresentation). */
  fitDocument() {
    const viewer = this.$("document-viewer");
    const stage = viewer.closest(".stage");
    if (!stage.classList.contains("with-document")) return;
    const top = viewer.getBoundingClientRect().top + window.scrollY;
    const controls = stage.querySelector(".controls").offsetHeight;
    stage.style.setProperty("--document-height", `${Math.max(320, window.innerHeight - top - controls - 28)}px`);
  }

  /** ← → turn the presented page for the presenter, unless typing in a field. */
  pageKey(event) {
    if (!["ArrowLeft", "ArrowRight"].includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (!this.isPresenter() || !this.state.presentation || this.room.ended) return;
    event.preventDefault();
    this.turn(event.key === "ArrowLeft" ? -1 : 1);
  }

  async drawPresentation() {
    const presentation = this.state.presentation;
    const viewer = this.$("document-viewer");
    if (!presentation || (viewer.dataset.material === String(presentation.material_id)
                          && viewer.dataset.page === String(presentation.page))) return;
    try {
      const pdfjs = await import(`${PDFJS}/pdf.min.mjs`);
      pdfjs.GlobalWorkerOptions.workerSrc = `${PDFJS}/pdf.worker.min.mjs`;
      if (!this.pdf || this.pdf.url !== presentation.url) {
        // the presentation URL serves whoever is in the meeting (guests too), proven by the resume secret
        const headers = { "X-Lianshen-Resume": this.room.signaling.resumeSecret || "" };
        this.pdf = { url: presentation.url,
                     doc: await pdfjs.getDocument({ url: presentation.url, httpHeaders: headers }).promise };
      }
      const page = await this.pdf.doc.getPage(presentation.page);
      const canvas = this.$("document-canvas");
      // the whole page in its box (beside the videos, under the page controls): an A4 page is
      // scaled to the box's height, a landscape drawing to its width; drawn sharp on dense screens
      const box = this.$("document-page");
      const natural = page.getViewport({ scale: 1 });
      const scale = Math.min(2, (box.clientWidth || 800) / natural.width, (box.clientHeight || 600) / natural.height);
      const ratio = window.devicePixelRatio || 1;
      const viewport = page.getViewport({ scale: scale * ratio });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = `${Math.floor(natural.width * scale)}px`;
      canvas.style.height = `${Math.floor(natural.height * scale)}px`;
      await page.render({ canvasContext: canvas.getContext("2d"), viewport, canvas }).promise;
      viewer.dataset.material = String(presentation.material_id);
      viewer.dataset.page = String(presentation.page); // what is on the canvas now
      canvas.setAttribute("aria-label", t("room.presentation.page_of", { title: presentation.title, page: presentation.page, pages: presentation.page_count }));
    } catch (error) {
      this.room.toast(t("room.presentation.failed"));
    }
  }

  turn(step) {
    const presentation = this.state && this.state.presentation;
    if (!presentation) return;
    const page = Math.min(presentation.page_count, Math.max(1, presentation.page + step));
    if (page !== presentation.page) this.ask("presentation_page", { page });
  }
}
