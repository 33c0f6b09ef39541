// Cameras, microphones and speakers: the device check before joining (a panel of the room page),
// and opening the chosen devices. A denied permission or a missing device never blocks joining: the person
// joins audio-only, or as a listener, and is told why in plain words.
import { t } from "./i18n.js";

const CHOICE_KEY = "lianshen.devices";

/** How to join: "full" (camera and microphone), "audio" (microphone only) or "listen" (nothing). */
export function loadChoice() {
  try {
    return { mode: "full", ...JSON.parse(sessionStorage.getItem(CHOICE_KEY) || "{}") };
  } catch {
    return { mode: "full" };
  }
}

function saveChoice(choice) {
  sessionStorage.setItem(CHOICE_KEY, JSON.stringify(choice));
}

/** The i18n key explaining why getUserMedia failed. */
export function problemKey(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "room.device.denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "room.device.none";
    case "NotReadableError":
    case "AbortError":
      return "room.device.busy";
    default:
      return "room.device.failed";
  }
}

function constraint(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : true;
}

function videoConstraint(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : {};
}

/** 540p when the camera has it: enough for three simulcast layers (540p, 270p, 135p; layers.js). */
function cameraSize() {
  return { width: { ideal: 960 }, height: { ideal: 540 } };
}

/**
 * Open what `choice` asks for, stepping down when it cannot: full → audio-only → listener.
 * Returns {stream (may be null), mode (what we got), problem (i18n key or null)}.
 */
export async function openLocalMedia(choice) {
  let problem = null;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return { stream: null, mode: "listen", problem: "room.device.unsupported" };
  }
  if (choice.mode === "full") {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: constraint(choice.micId), video: { ...cameraSize(), ...videoConstraint(choice.cameraId) } });
      return { stream, mode: "full", problem: null };
    } catch (error) {
      problem = problemKey(error);
    }
  }
  if (choice.mode !== "listen") {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: constraint(choice.micId) });
      return { stream, mode: "audio", problem };
    } catch (error) {
      problem = problemKey(error);
    }
  }
  return { stream: null, mode: "listen", problem };
}

/** A short tone on the chosen speaker, so people can tell they will hear the meeting. */
export async function playTestTone(speakerId, seconds = 1) {
  const context = new AudioContext();
  const oscillator = context.createOscillator();
  const destination = context.createMediaStreamDestination();
  oscillator.frequency.value = 660;
  oscillator.connect(destination);
  const audio = new Audio();
  audio.srcObject = destination.stream;
  if (speakerId && audio.setSinkId) await audio.setSinkId(speakerId);
  oscillator.start();
  await audio.play();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  oscillator.stop();
  audio.pause();
  await context.close();
}

/** Show the microphone's level in a <meter>; returns a function that stops it. */
export function levelMeter(stream, meter) {
  if (!stream || !stream.getAudioTracks().length) return () => {};
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getByteTimeDomainData(samples);
    let peak = 0;
    for (const value of samples) peak = Math.max(peak, Math.abs(value - 128));
    meter.value = peak / 128;
    requestAnimationFrame(tick);
  };
  tick();
  return () => {
    running = false;
    context.close();
  };
}

function fillSelect(select, devices, kind, chosen) {
  select.replaceChildren();
  const matching = devices.filter((d) => d.kind === kind);
  matching.forEach((device, index) => {
    const option = document.createElement("option");
    option.value = device.deviceId;
    option.textContent = device.label || `${t(`room.device.${kind}`)} ${index + 1}`;
    option.selected = device.deviceId === chosen;
    select.append(option);
  });
  select.disabled = matching.length === 0;
  return matching.length;
}

/** What the room gets to publish for `mode`, taken from the check's open stream (unused tracks stop). */
function narrow(current, mode) {
  const stream = current ? current.stream : null;
  const problem = current ? current.problem : null;
  const keep = (track) => mode === "full" || (mode === "audio" && track.kind === "audio");
  if (!stream) return { stream: null, mode: "listen", problem };
  for (const track of stream.getTracks()) if (!keep(track)) track.stop();
  const kept = stream.getTracks().filter(keep);
  if (!kept.length) return { stream: null, mode: "listen", problem };
  return { stream: mode === "full" ? stream : new MediaStream(kept), mode, problem };
}

/**
 * The device check before joining: the room page's pre-join panel (client_web/templates/room/room.html).
 * Resolves when a join button is pressed, with {clickedAt, choice, local}: `local` is what the
 * room publishes ({stream, mode, problem}), the very stream the preview showed, so joining opens
 * no device again.
 */
export function runDeviceCheck() {
  const $ = (id) => document.getElementById(id);
  const preview = $("preview");
  const message = $("device-message");
  const choice = loadChoice();
  let current = null;
  let joined = false;
  let stopMeter = () => {};

  const show = (key) => {
    message.textContent = key ? t(key) : "";
    message.hidden = !key;
  };

  async function open() {
    stopMeter();
    if (current && current.stream) current.stream.getTracks().forEach((track) => track.stop());
    const opened = await openLocalMedia({ ...choice, mode: "full" });
    if (joined) { // "listen" was pressed while the devices were still opening
      opened.stream?.getTracks().forEach((track) => track.stop());
      return;
    }
    current = opened;
    preview.srcObject = current.stream && current.stream.getVideoTracks().length ? current.stream : null;
    $("preview-empty").hidden = Boolean(preview.srcObject);
    stopMeter = levelMeter(current.stream, $("mic-level"));
    show(current.problem ? `${current.problem}` : null);
    const devices = navigator.mediaDevices && navigator.mediaDevices.enumerateDevices
      ? await navigator.mediaDevices.enumerateDevices() : [];
    const cameras = fillSelect($("camera"), devices, "videoinput", choice.cameraId);
    const mics = fillSelect($("microphone"), devices, "audioinput", choice.micId);
    const speakers = fillSelect($("speaker"), devices, "audiooutput", choice.speakerId);
    // choosing the speaker needs setSinkId (not in every browser): then the system's speaker plays
    $("speaker").disabled = !speakers || !("setSinkId" in HTMLMediaElement.prototype);
    $("join-full").disabled = current.mode !== "full" || !cameras;
    $("join-audio").disabled = current.mode === "listen" || !mics;
    $("device-mode").textContent = t(`room.device.mode.${current.mode}`);
    document.body.dataset.deviceMode = current.mode;
  }

  $("camera").addEventListener("change", (e) => { choice.cameraId = e.target.value; open(); });
  $("microphone").addEventListener("change", (e) => { choice.micId = e.target.value; open(); });
  $("speaker").addEventListener("change", (e) => { choice.speakerId = e.target.value; });
  $("speaker-test").addEventListener("click", async () => {
    try {
      await playTestTone(choice.speakerId);
      show("room.device.tone_played");
    } catch {
      show("room.device.tone_failed");
    }
  });
  const pressed = new Promise((resolve) => {
    for (const mode of ["full", "audio", "listen"]) {
      $(`join-${mode}`).addEventListener("click", () => {
        if (joined) return;
        joined = true;
        const clickedAt = Date.now();
        saveChoice({ ...choice, mode });
        stopMeter();
        preview.srcObject = null;
        resolve({ clickedAt, choice: { ...choice, mode }, local: narrow(current, mode) });
      });
    }
  });
  open();
  return pressed;
}
