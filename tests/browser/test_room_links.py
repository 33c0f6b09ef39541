"""The chair's "线路状态" panel in a real room: one row per site with its rates once media flows;
a representative's page has no such panel. Real server, real SFU, real Chromium."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser.language_check import zh_findings
from tests.browser.room_driver import WAIT_MS, enter_room, screenshot_path
from tests.media.signaling_harness import LiveServer

ROWS_FLOWING = """ids => {
  const rows = [...document.querySelectorAll('#links-rows tr')];
  return rows.length === ids.length && ids.every(id => {
    const row = rows.find(r => r.dataset.peer === id);
    return row && [1, 2].every(i => Number(row.cells[i].textContent) > 0);
  });
}"""

ALL_RATES = """async url => {
  const body = await (await fetch(url)).json();
  return body.peers.length === 2 && body.peers.every(peer =>
    peer.publish.length === 2 && [...peer.publish, ...peer.subscribe].every(link => link.bitrate_kbps > 0));
}"""


async def test_chair_sees_each_sites_link_state(live: LiveServer, browser: Browser) -> None:
    chair = await enter_room(browser, live.url, live.world.meeting_x, "chair")
    rep = await enter_room(browser, live.url, live.world.meeting_x, "rep_a")
    ids = [await chair.participant_id(), await rep.participant_id()]
    await chair.wait_video(ids[1])

    assert not await rep.page.is_visible("#links-panel")
    await chair.page.click("#links-panel summary")
    await chair.page.wait_for_function(ROWS_FLOWING, arg=ids, polling=200, timeout=WAIT_MS)
    row = chair.page.locator(f'#links-rows tr[data-peer="{ids[1]}"]')
    assert "王发改" in (await row.text_content() or "")
    assert await row.get_attribute("data-quality") in ("good", "fair")
    assert "更新于" in (await chair.page.text_content("#links-status") or "")
    # Chromium's own streams: every track's rate from its sender reports (audio ones come every
    # 5-7.5 s, so the second may take ~10 s), and every forwarded one's
    await chair.page.wait_for_function(ALL_RATES, arg=f"/api/v1/meetings/{live.world.meeting_x}/links",
                                       polling=1000, timeout=30_000)
    assert zh_findings("links-panel", await chair.page.inner_text("#links-panel")) == []
    await chair.page.locator("#links-panel").screenshot(path=screenshot_path("chair-link-state"))
