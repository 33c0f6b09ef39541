"""Archive search over HTTP: Chinese fragments, department names, opinion types, filters, scope,
hostile query text, and the access log each search leaves."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.settings import Settings
from tests.api.archive_support import archived_case
from tests.api.meetings_support import sign_in

SEARCH = "/api/v1/archive/search"


async def _hits(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(SEARCH, params=params)
    assert response.status == 200, await response.text()
    return (await response.json())["hits"]


async def test_chinese_fragments_departments_and_opinion_types(client: TestClient, db_sessions,
                                                               settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    await sign_in(client, "archivist")
    sewage = await _hits(client, q="污水处理")  # inside 乡镇污水处理厂
    assert {h["kind"] for h in sewage} == {"opinion"}, sewage
    hit = sewage[0]
    assert "<mark>污水处理</mark>" in hit["snippet_html"]
    assert hit["case_id"] == archived.world.case_x and hit["meeting_id"] == archived.meeting_2
    assert hit["url"] == f"/archive/cases/{archived.world.case_x}#event-{archived.meeting_2}-{hit['event_seq']}"
    assert "选址另议" not in str(await _hits(client, q="选址"))  # private chat is not indexed
    by_department = await _hits(client, q="发展和改革局")
    assert {"opinion", "material"} <= {h["kind"] for h in by_department}
    conditional = await _hits(client, opinion_type="conditional")
    assert [h["event_seq"] for h in conditional] == [hit["event_seq"]]
    assert {h["opinion_type"] for h in await _hits(client, opinion_type="agree_in_principle")} == {"agree_in_principle"}
    assert await _hits(client, q="节能") != []  # two characters: below a trigram, LIKE fallback
    minutes = await _hits(client, kind="minutes")
    assert sorted(h["title"].rsplit("（", 1)[1] for h in minutes) == ["定稿）", "已被取代）"]
    assert all("#minutes-" in h["url"] for h in minutes)


async def test_filters_combine(client: TestClient, db_sessions, settings: Settings) -> None:
    await archived_case(db_sessions, settings)
    await sign_in(client, "admin")
    assert await _hits(client, q="污水处理", project_code="2603-530921*") != []
    assert await _hits(client, q="污水处理", project_code="2603-530922*") == []
    assert await _hits(client, project_code="2603-530921-04-01-512345", kind="decision") != []
    assert await _hits(client, q="污水处理", applicant="小湾生态") != []
    assert await _hits(client, q="污水处理", applicant="滇红茶") == []
    assert await _hits(client, q="污水处理", case_name="鱼制品") != []
    assert await _hits(client, q="污水处理", department="FQ-FGJ", level="county") != []
    assert await _hits(client, q="污水处理", level="province") == []
    assert await _hits(client, q="污水处理", date_from="2020-01-01", date_to="2099-12-31") != []
    assert await _hits(client, q="污水处理", date_to="2020-01-01") == []


async def test_applicants_see_only_their_own_organisation(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    case_x, case_y = archived.world.case_x, archived.world.case_y
    for account, own in (("applicant", case_x), ("agent", case_x), ("rep_a", case_x), ("applicant_other", case_y),
                         ("rep_other", case_y)):
        await sign_in(client, account)
        assert {h["case_id"] for h in await _hits(client, q="原则同意")} == {own}, account
        assert {h["case_id"] for h in await _hits(client, q="节能")} == {own}, account
        found = await _hits(client, q="污水处理")
        assert bool(found) is (own == case_x), (account, found)


async def test_hostile_query_text_is_searched_literally(client: TestClient, db_sessions, settings: Settings) -> None:
    await archived_case(db_sessions, settings)
    await sign_in(client, "archivist")
    assert await _hits(client, q='"OR" NEAR(排污)') != []  # found as the literal chat text
    for q in ('"', '""', "'", "a\"b", "OR", "AND NOT", "NEAR(x y)", "*", "污水*", "^污水", "search_text:污水",
              "%", "_", "\\", "污水%处理", "'; DROP TABLE archive_entries; --", "{污水 处理}"):
        response = await client.get(SEARCH, params={"q": q})
        assert response.status == 200, (q, await response.text())
    assert await _hits(client, q="污水%处理") == []  # % is a character here, not a wildcard
    for params in ({"q": "污" * 201}, {"q": " ".join("abcdefghi")}, {"q": "a\x00b"}, {"project_code": "2603%"},
                   {"opinion_type": "maybe"}, {"limit": "0"}, {"date_from": "yesterday"}, {"sort": "x"}):
        response = await client.get(SEARCH, params=params)
        assert response.status == 422, (params, await response.text())
        assert "error" in await response.json()
    assert (await client.get(SEARCH, params={"q": "污水处理"})).status == 200  # still working afterwards


async def test_every_search_is_logged_for_the_admin(client: TestClient, db_sessions, settings: Settings) -> None:
    await archived_case(db_sessions, settings)
    await sign_in(client, "applicant")
    await _hits(client, q="节能", kind="material")
    await sign_in(client, "archivist")
    assert (await client.get("/api/v1/archive/access-log")).status == 403
    await sign_in(client, "admin")
    log = await (await client.get("/api/v1/archive/access-log", params={"username": "applicant"})).json()
    assert len(log) == 1
    assert log[0]["action"] == "search" and log[0]["target"] == "节能" and log[0]["remote"] == "127.0.0.1"
    assert '"kind": "material"' in log[0]["detail"]


async def test_joint_meeting_passages_are_not_shown_to_applicants(client: TestClient, db_sessions,
                                                                  settings: Settings) -> None:
    """A meeting that also reviewed another organisation's case: applicants get neither its
    minutes (server.services.minutes_reading) nor its meeting-wide passages (chat) in search."""
    from server.db.models import AgendaEntry

    archived = await archived_case(db_sessions, settings)
    async with db_sessions() as db:  # case Y joins the second meeting's agenda before indexing
        db.add(AgendaEntry(meeting_id=archived.meeting_2, item_id=archived.world.item_y, position=2))
        await db.commit()
    await sign_in(client, "archivist")
    chat = await _hits(client, q="NEAR(排污)")
    assert {h["case_id"] for h in chat} == {archived.world.case_x, archived.world.case_y}
    for account in ("applicant", "applicant_other"):
        await sign_in(client, account)
        assert await _hits(client, q="NEAR(排污)") == [], account
    await sign_in(client, "applicant")
    assert await _hits(client, q="污水处理") != []  # the opinion on its own case stays
    dossier = await (await client.get(f"/api/v1/archive/cases/{archived.world.case_x}/dossier")).json()
    second = next(m for m in dossier["meetings"] if m["id"] == archived.meeting_2)
    assert second["events"] == [] and f"meeting-{archived.meeting_2}" in {g["name"] for g in dossier["unavailable"]}


async def test_index_follows_new_events_and_superseded_minutes(client: TestClient, db_sessions,
                                                               settings: Settings) -> None:
    from server.services.eventlog import append_event
    from server.services.minutes_workflow import finalise, new_version, send_for_confirmation
    from tests.api.minutes_support import chair_of

    archived = await archived_case(db_sessions, settings)
    await sign_in(client, "archivist")
    assert len(await _hits(client, kind="minutes")) == 2
    assert await _hits(client, q="茶园套种") == []
    chair = chair_of(archived.world)
    async with db_sessions() as db:
        await append_event(db, archived.meeting_2, archived.world.user_ids["chair"], "decision_recorded",
                           {"decision_id": "d9", "project_code": None, "item_name": None, "text": "鼓励茶园套种核桃。"})
        await new_version(db, chair, archived.meeting_1, "补记参会人员", settings)
        await send_for_confirmation(db, chair, archived.meeting_1)
        await finalise(db, chair, archived.meeting_1, "发改局未在期限内确认", settings)
        await db.commit()
    assert [h["kind"] for h in await _hits(client, q="茶园套种")] == ["decision"]
    titles = sorted(h["title"].rsplit("（", 1)[1] for h in await _hits(client, kind="minutes"))
    assert titles == ["定稿）", "已被取代）", "已被取代）"], titles
