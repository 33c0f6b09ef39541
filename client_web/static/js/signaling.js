// The socket.io side of docs/protocol.md: requests with acknowledgements, server events, and a
// connection that comes back by itself after a drop (the room then resumes with its secret).
import { io } from "/vendor/socket.io/socket.io.esm.min.js";
import { t } from "./i18n.js";

const ACK_TIMEOUT_MS = 15000;

/** A refusal from the server: `code` is the protocol's error code, the message is bilingual. */
export class SignalingError extends Error {
  constructor(error) {
    super(error.message || error.code);
    this.code = error.code;
    this.event = error.event;
    this.details = error.details;
  }
}

export class Signaling {
  constructor(meetingId) {
    this.meetingId = meetingId;
    /** Sent in the connect `auth` once known, so a reconnect proves it is the same participant. */
    this.resumeSecret = null;
    this.handlers = new Map();
    this.socket = io({
      path: "/socket.io/",
      transports: ["websocket"],
      autoConnect: false,
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      auth: (send) => send(this.resumeSecret ? { resume: this.resumeSecret } : {}),
    });
    this.socket.onAny((event, data) => this.emitLocal(event, data));
    for (const event of ["connect", "disconnect", "connect_error"]) {
      this.socket.on(event, (data) => this.emitLocal(event, data));
    }
  }

  connect() {
    this.socket.connect();
  }

  get connected() {
    return this.socket.connected;
  }

  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(handler);
  }

  emitLocal(event, data) {
    for (const handler of this.handlers.get(event) || []) {
      try {
        handler(data);
      } catch (error) {
        console.error(`handler for ${event} failed`, error);
      }
    }
  }

  /** Send `event` for this meeting and return the ack's result; throws SignalingError on refusal. */
  async request(event, payload = {}) {
    let ack;
    try {
      ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, { meeting_id: this.meetingId, ...payload });
    } catch (error) {
      throw new SignalingError({ code: "no_ack", message: t("room.no_answer"), event });
    }
    if (!ack || !ack.ok) throw new SignalingError((ack && ack.error) || { code: "no_ack", message: t("room.no_answer"), event });
    return ack;
  }

  /** Say goodbye (a disconnect packet is a leave, not a drop) and stop reconnecting. */
  close() {
    this.socket.disconnect();
  }

  /** Drop the transport as a network failure would (for tests and the "reconnect now" button). */
  dropTransport() {
    this.socket.io.engine.close();
  }
}
