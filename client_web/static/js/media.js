// The two peer connections of docs/protocol.md §3: publish (we offer our camera, microphone and
// screen, sendonly) and subscribe (the server offers everyone else's; we answer). Each has one fixed
// offerer, so there is never glare; each negotiation runs after the previous one finished.

import { favourResolution, sendingInit } from "./layers.js";

export const KINDS = ["audio", "video", "screen"];
const MIN_PACKETS = 50;

/**
 * Trickle ICE: candidates go to the server as `ice_candidate` as soon as they are found, but only
 * after the SDP they belong to was sent (the server handles a connection's events in order), so
 * nobody waits for gathering to finish before the first offer or answer goes out.
 */
class Trickle {
  constructor(pc, signaling, name) {
    this.signaling = signaling;
    this.name = name;
    this.sent = false;
    this.waiting = [];
    pc.addEventListener("icecandidate", (event) => {
      const c = event.candidate;
      const message = c && c.candidate
        ? { connection: name, candidate: c.candidate, sdp_mid: c.sdpMid, sdp_mline_index: c.sdpMLineIndex }
        : { connection: name, candidate: "" };
      if (this.sent) this.send(message);
      else this.waiting.push(message);
    });
  }

  send(message) {
    this.signaling.request("ice_candidate", message).catch(() => {}); // a refused candidate is logged by the server
  }

  /** The SDP went out: send what was found meanwhile, and the rest as it comes. */
  flush() {
    this.sent = true;
    for (const message of this.waiting.splice(0)) this.send(message);
  }
}

function connection(iceServers) {
  return new RTCPeerConnection({ iceServers: iceServers || [], bundlePolicy: "max-bundle" });
}

/** Serialises async jobs: each starts when the one before has settled. */
class Queue {
  constructor() {
    this.tail = Promise.resolve();
  }
  run(job) {
    const result = this.tail.then(job);
    this.tail = result.catch(() => {});
    return result;
  }
}

export class Publisher {
  constructor(signaling, iceServers) {
    this.signaling = signaling;
    this.pc = connection(iceServers);
    this.trickle = new Trickle(this.pc, signaling, "publish");
    /** kind -> transceiver; an m-line is kept and reused when its track stops and starts again. */
    this.transceivers = {};
    this.queue = new Queue();
  }

  track(kind) {
    const transceiver = this.transceivers[kind];
    return transceiver && transceiver.direction === "sendonly" ? transceiver.sender.track : null;
  }

  /** Send `track` as `kind` (null: stop sending it), then re-offer. */
  async setTrack(kind, track) {
    return this.queue.run(async () => {
      const transceiver = this.transceivers[kind];
      if (!transceiver) {
        if (!track) return;
        this.transceivers[kind] = await this.add(kind, track);
      } else {
        await transceiver.sender.replaceTrack(track);
        transceiver.direction = track ? "sendonly" : "inactive";
      }
      await this.negotiate();
    });
  }

  /** Start sending several tracks with one offer: {kind: track}. */
  async start(tracks) {
    return this.queue.run(async () => {
      for (const kind of KINDS) {
        if (tracks[kind]) this.transceivers[kind] = await this.add(kind, tracks[kind]);
      }
      if (Object.keys(this.transceivers).length) await this.negotiate();
    });
  }

  /** A new m-line for `kind`: the camera as simulcast layers, a screen favouring resolution. */
  async add(kind, track) {
    const transceiver = this.pc.addTransceiver(track, sendingInit(kind));
    if (kind === "screen") await favourResolution(transceiver.sender);
    return transceiver;
  }

  async negotiate() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const sources = {};
    for (const [kind, transceiver] of Object.entries(this.transceivers)) {
      if (transceiver.mid !== null && transceiver.direction === "sendonly") sources[transceiver.mid] = kind;
    }
    const ack = await this.signaling.request("publish", { sdp: this.pc.localDescription.sdp, sources });
    await this.pc.setRemoteDescription({ type: "answer", sdp: ack.sdp });
    this.trickle.flush();
    return ack;
  }

  close() {
    this.pc.close();
  }
}

export class Subscriber {
  /** `onTracks([{producer, track}])` gets the complete current set after every answer. */
  constructor(signaling, iceServers, onTracks) {
    this.signaling = signaling;
    this.pc = connection(iceServers);
    this.trickle = new Trickle(this.pc, signaling, "subscribe");
    this.onTracks = onTracks;
    this.queue = new Queue();
  }

  /** Answer a `subscribe_offer` ({sdp, tracks: {mid: producer}}), in arrival order. */
  answer(offer) {
    return this.queue.run(async () => {
      await this.pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      await this.signaling.request("subscribe_answer", { sdp: this.pc.localDescription.sdp });
      this.trickle.flush();
      const current = [];
      for (const transceiver of this.pc.getTransceivers()) {
        const producer = offer.tracks[transceiver.mid];
        if (producer && transceiver.receiver.track) current.push({ producer, track: transceiver.receiver.track });
      }
      this.onTracks(current);
    });
  }

  close() {
    this.pc.close();
  }
}

/** Both connections still carry media (a resume may then keep them: `keep_media`). */
export function alive(...connections) {
  return connections.every((c) => c && ["connected", "completed"].includes(c.pc.connectionState || c.pc.iceConnectionState));
}

/**
 * Connection quality from getStats: round-trip time and packet loss since the last sample.
 * Returns {level: "good"|"fair"|"poor"|"unknown", rtt_ms, loss_pct}.
 */
export class QualityMeter {
  constructor() {
    this.previous = new Map();
  }

  async sample(connections) {
    let rtt = null;
    let lost = 0;
    let received = 0;
    for (const c of connections) {
      if (!c || c.pc.connectionState === "closed") continue;
      const stats = await c.pc.getStats();
      stats.forEach((report) => {
        if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded"
            && typeof report.currentRoundTripTime === "number") {
          rtt = Math.max(rtt ?? 0, report.currentRoundTripTime * 1000);
        }
        if (report.type === "inbound-rtp") {
          // only losses since the previous sample count: start-up (before the first keyframe) is not "now"
          const before = this.previous.get(report.id);
          if (before) {
            lost += Math.max(0, (report.packetsLost || 0) - before.lost);
            received += Math.max(0, (report.packetsReceived || 0) - before.received);
          }
          this.previous.set(report.id, { lost: report.packetsLost || 0, received: report.packetsReceived || 0 });
        }
      });
    }
    // too few packets say nothing about loss (a listener's audio-only second, a paused stream)
    const loss = received + lost >= MIN_PACKETS ? (100 * lost) / (received + lost) : 0;
    let level = "unknown";
    if (rtt !== null || received > 0) {
      level = loss > 8 || (rtt ?? 0) > 600 ? "poor" : loss > 2 || (rtt ?? 0) > 250 ? "fair" : "good";
    }
    return { level, rtt_ms: rtt === null ? null : Math.round(rtt), loss_pct: Math.round(loss * 10) / 10 };
  }
}
