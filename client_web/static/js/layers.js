/**
 * Simulcast layers (issue 17): the camera is sent three times (¼, ½ and full size), the SFU
 * forwards each viewer the one its link and its tile can use. Each is sent in three temporal
 * layers where the browser can (VP8 `scalabilityMode` "L1T3"), so the SFU can also give a weak
 * link a quarter or half of the frame rate without a keyframe. Here: how we publish, how we tell
 * the SFU each tile's size (`layer_hint`), and a quality dot per tile.
 */

/** Lowest first: the SFU reads the layers in the order of `a=simulcast`. */
export const CAMERA_ENCODINGS = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/**
 * The camera goes out as simulcast unless switched off in this browser (localStorage
 * "lianshen.simulcast" = "0"; tests/browser/test_room_temporal.py does, to see one stream in
 * three temporal layers). The recording follows the best layer actually sent
 * (server/sfu/best_layer.py), so a viewer's layer and the recording's are independent.
 */
function cameraSimulcast() {
  try {
    return localStorage.getItem("lianshen.simulcast") !== "0";
  } catch {
    return true; // storage refused (privacy settings): the default
  }
}

let temporalSupported = null;

/**
 * Whether the browser sends VP8 in three temporal layers. Chromium takes "L1T3" and refuses what
 * it cannot send (OperationError) but does not list scalability modes among its capabilities, so
 * a throwaway connection is asked once; a browser that refuses is not asked again.
 */
function temporalLayers() {
  if (temporalSupported === null) {
    let pc = null;
    try {
      pc = new RTCPeerConnection();
      pc.addTransceiver("video", { direction: "sendonly", sendEncodings: [{ scalabilityMode: "L1T3" }] });
      temporalSupported = true;
    } catch {
      temporalSupported = false;
    } finally {
      if (pc) pc.close();
    }
  }
  return temporalSupported;
}

/** The addTransceiver options for a source: the camera as simulcast, the rest as one stream. */
export function sendingInit(kind) {
  if (kind !== "video") return { direction: "sendonly" };
  const temporal = temporalLayers() ? { scalabilityMode: "L1T3" } : null;
  if (cameraSimulcast()) {
    const encodings = temporal ? CAMERA_ENCODINGS.map((encoding) => ({ ...encoding, ...temporal })) : CAMERA_ENCODINGS;
    return { direction: "sendonly", sendEncodings: encodings };
  }
  return temporal ? { direction: "sendonly", sendEncodings: [temporal] } : { direction: "sendonly" };
}

/**
 * A shared screen keeps its resolution and gives up frame rate when the link is short: text must
 * stay legible, a slide barely moves.
 */
export async function favourResolution(sender) {
  if (sender.track) sender.track.contentHint = "detail";
  try {
    const parameters = sender.getParameters();
    parameters.degradationPreference = "maintain-resolution";
    await sender.setParameters(parameters);
  } catch {
    // older browsers do not take degradationPreference; contentHint "detail" has the same effect there
  }
}

const RESEND_RATIO = 0.15; // a tile must change by this much before the SFU hears of it again

/** The <video> showing a received producer, if it is on screen at all. */
function videoFor(grid, producer) {
  if (producer.kind === "screen") {
    const screen = grid.screens.get(producer.participant_id);
    return screen ? screen.video : null;
  }
  const tile = grid.tiles.get(producer.participant_id);
  return tile ? tile.video : null;
}

/** Tells the SFU how large each received video is shown, when that changes. */
export class LayerHints {
  constructor(signaling) {
    this.signaling = signaling;
    this.sent = new Map(); // producer id -> {width, height, visible}
  }

  /** `current`: the subscriber's [{producer, track}]; `grid`: where they are shown. */
  update(current, grid) {
    const ratio = window.devicePixelRatio || 1;
    const present = new Set();
    for (const { producer } of current) {
      if (producer.kind === "audio") continue;
      present.add(producer.id);
      const video = videoFor(grid, producer);
      const width = video ? Math.round(video.clientWidth * ratio) : 0;
      const height = video ? Math.round(video.clientHeight * ratio) : 0;
      const visible = Boolean(video && video.isConnected && width > 0 && document.visibilityState === "visible");
      const before = this.sent.get(producer.id);
      const changed = !before || before.visible !== visible
        || Math.abs(width - before.width) > RESEND_RATIO * Math.max(before.width, 1)
        || Math.abs(height - before.height) > RESEND_RATIO * Math.max(before.height, 1);
      if (!changed) continue;
      this.sent.set(producer.id, { width, height, visible });
      this.signaling.request("layer_hint", { producer_id: producer.id, width, height, visible })
        .catch(() => this.sent.delete(producer.id)); // said again at the next update
    }
    for (const id of [...this.sent.keys()]) if (!present.has(id)) this.sent.delete(id);
  }
}

/**
 * A dot per remote tile: "good" when the picture is as sharp as the tile shows it, "fair" when
 * the SFU sends a smaller layer (a weak link), "poor" when no picture comes.
 */
export function showQuality(grid, selfId) {
  const ratio = window.devicePixelRatio || 1;
  for (const [id, tile] of grid.tiles) {
    if (id === selfId) continue;
    let dot = tile.root.querySelector(".quality-dot");
    if (!dot) {
      dot = document.createElement("span");
      dot.className = "quality-dot";
      dot.setAttribute("aria-hidden", "true");
      tile.root.append(dot);
    }
    const video = tile.video;
    const showing = tile.root.classList.contains("has-video");
    let level = "none";
    if (showing) {
      const wanted = video.clientHeight * ratio;
      if (!video.videoHeight) level = "poor";
      else level = video.videoHeight >= 0.7 * wanted ? "good" : "fair";
    }
    tile.root.dataset.videoQuality = level;
    dot.title = showing && video.videoHeight ? `${video.videoWidth}×${video.videoHeight}` : "";
  }
}
