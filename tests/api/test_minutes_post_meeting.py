"""Through the real path (issue 12, "Truthful rules"): an opinion amended over the API after the
meeting ended is printed in the minutes as a post-meeting amendment (会后修改, with its time in
Beijing time, the person and post, and the reason), never as an in-meeting change."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from minutes.render.layout import cn_date, cn_time
from server.db.models import MeetingEvent
from server.services.clock import CENTRE_TZ
from tests.api.meetings_support import sign_in
from tests.api.minutes_support import OPINION_ID, end_through_api, hold_meeting
from tests.world import build_world


async def test_an_opinion_amended_after_the_meeting_prints_as_a_post_meeting_amendment(
        client: TestClient, db_sessions) -> None:
    world = await build_world(db_sessions)
    await hold_meeting(db_sessions, world, world.meeting_x)
    await end_through_api(client, world.meeting_x)
    rep_a = await sign_in(client, "rep_a")
    base = f"/api/v1/meetings/{world.meeting_x}/minutes"
    response = await client.post(f"{base}/opinions/{OPINION_ID}/amendments", headers=rep_a, json={
        "kind": "conditional", "text": "同意备案", "conditions": ["开工前取得节能审查意见"],
        "reason": "会后核实节能要求"})
    assert response.status == 200, await response.text()
    current = (await response.json())["current"]
    [opinion] = current["content"]["items"][0]["opinions"]
    [amendment] = opinion["amendments"]
    assert (amendment["phase"], amendment["phase_label"], amendment["by"], amendment["post_label"],
            amendment["reason"]) == ("after", "会后", "王发改", "A岗", "会后核实节能要求")
    assert (opinion["given_by"], opinion["post_label"], opinion["revision"]) == ("王发改", "A岗", 2)
    async with db_sessions() as db:
        logged = await db.scalar(select(MeetingEvent.ts).where(MeetingEvent.meeting_id == world.meeting_x,
                                                               MeetingEvent.type == "opinion_amended"))
    assert logged is not None
    assert amendment["at"] == logged.astimezone(CENTRE_TZ).replace(tzinfo=None).isoformat(timespec="minutes")

    document = await client.get(f"{base}/versions/{current['version']}/document", params={"format": "html"})
    assert document.status == 200, await document.text()
    text = re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", await document.text())))
    when = f"{cn_date(amendment['at'])}{cn_time(amendment['at'])}"
    assert f"（会后修改：{when}，王发改（A岗），理由：会后核实节能要求）" in text
    assert "会中修改" not in text
