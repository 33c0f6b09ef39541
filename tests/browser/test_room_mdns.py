"""A browser that shows only mDNS names (``<uuid>.local``) for its host candidates, as Chromium
does for a page without camera permission, still sees and is seen: the SFU skips the names it
cannot resolve and learns the browser's address from its STUN checks (docs/network.md).

Chromium here has camera permission (fake devices), so the page itself rewrites every candidate
address it hands to the app, in the SDPs and in trickled candidates, before the app sends them.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.browser.room_driver import enter_room, open_context
from tests.media.signaling_harness import LiveServer

HIDE_ADDRESSES = r"""(() => {
  window.__hidden = 0;
  const hide = (line) => line.replace(/^((?:a=)?candidate:\S+ \d+ \S+ \d+ )(\S+)( .*)$/,
    (_all, head, _address, tail) => { window.__hidden += 1; return `${head}${crypto.randomUUID()}.local${tail}`; });
  const hideSdp = (sdp) => sdp.split("\r\n").map(hide).join("\r\n");
  const local = Object.getOwnPropertyDescriptor(RTCPeerConnection.prototype, "localDescription");
  Object.defineProperty(RTCPeerConnection.prototype, "localDescription", {
    get() {
      const d = local.get.call(this);
      return d && { type: d.type, sdp: hideSdp(d.sdp) };
    },
  });
  const listen = RTCPeerConnection.prototype.addEventListener;
  RTCPeerConnection.prototype.addEventListener = function (type, listener, options) {
    if (type !== "icecandidate") return listen.call(this, type, listener, options);
    return listen.call(this, type, (event) => {
      const c = event.candidate;
      listener(c && c.candidate
        ? { candidate: { candidate: hide(c.candidate), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } }
        : event);
    }, options);
  };
})();"""


@pytest.mark.timeout(120)
async def test_a_browser_hiding_its_addresses_behind_mdns_sees_and_is_seen(
        live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    context = await open_context(browser, live.url, "rep_a")
    await context.add_init_script(HIDE_ADDRESSES)
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a", context=context)
    chair_id, rep_id = await chair.participant_id(), await rep.participant_id()

    await chair.wait_video(rep_id)
    await rep.wait_video(chair_id)
    assert await rep.page.evaluate("window.__hidden") > 0  # it did hide its candidates

    peer = live.signaling.meetings[live.world.meeting_x].participants[rep_id].peer
    for pc in (peer.publish_connection, peer.subscribe_connection):
        assert pc is not None
        ice = pc.getTransceivers()[0].receiver.transport.transport
        # aioice 0.13 internal: nothing but what the browser's own checks taught the SFU
        assert {c.type for c in ice._connection.remote_candidates} == {"prflx"}
    await rep.shot("room-mdns-representative")
