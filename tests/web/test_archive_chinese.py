"""The dossier and the meeting's event log read in Chinese: no internal code (event types,
capacities, statuses) and no English word outside ids, hashes and file names reaches a zh page;
the event log's 人员 column is given a readable width; and the dossier and the recordings page
tell the same truth about a recording the log records but storage does not hold."""

from __future__ import annotations

import re

import html5lib
from aiohttp.test_utils import TestClient

from record.events import EVENT_TYPES
from record.vocab import Capacity, MeetingStatus
from server.domain.cases import ItemStatus
from server.services.eventlog import append_event
from server.settings import Settings
from tests.api.archive_support import archived_case
from tests.api.meetings_support import sign_in

INTERNAL_CODES = ({*EVENT_TYPES} | {c.value for c in Capacity} | {s.value for s in MeetingStatus}
                  | {s.value for s in ItemStatus} | {"complete", "recovered", "superseded", "final", "video", "audio"})
ALLOWED = (
    re.compile(r"[0-9a-f]{12,}"),  # hashes
    re.compile(r"[\w.-]*[\w-]\.(pdf|docx|json|jsonl|mp4|webm|ogg|mkv)", re.I),  # file names
    re.compile(r"[\w.-]+/[\w./-]+"),  # catalogue paths
    re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)+"),  # codes and keys: FQ-FGJ, M1-20261207-R1, SHA-256
    re.compile(r"[A-Z]{2,5}"),  # formats and abbreviations: PDF, DOCX, JSON
    re.compile(r"(?=.*\d)[\w-]+"),  # ids with digits: credit codes, recording keys
    re.compile("English"),  # the language switch, named in its own language
)
NS = "{http://www.w3.org/1999/xhtml}"


def _visible_text(html: str, section: str | None = None) -> str:
    root = html5lib.parse(html)
    if section is not None:
        root = next(e for e in root.iter(f"{NS}section") if e.get("aria-labelledby") == section)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{NS}script", f"{NS}style", f"{NS}head"):
                parent.remove(child)
    return " ".join(root.itertext())


def leaks(text: str) -> list[str]:
    """Runs of Latin letters a person would read as English or as a code, with ids, hashes and
    file names (whole tokens matching ALLOWED) left out."""
    found = []
    for token in re.split(r"[\s，。；：、（）()·—–…|\"'“”]+", text):
        if not re.search(r"[A-Za-z]", token) or any(p.fullmatch(token) for p in ALLOWED):
            continue
        found.append(token)
    return found


def test_the_check_can_fail() -> None:
    assert leaks("会议开始 meeting_started 张峰（member）") == ["meeting_started", "member"]
    assert leaks("下载 minutes-v2.pdf SHA-256 3f9a0c1d2e3f4a5b6c7d FQ-FGJ M1-20261207-R1 PDF") == []
    assert leaks("原始轨道 / original track") == ["original", "track"]


async def test_dossier_and_event_log_speak_chinese(client: TestClient, db_sessions, settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    meeting = archived.meeting_1
    missing_key = f"M{meeting}-20261207-R9"
    async with db_sessions() as db:
        await append_event(db, meeting, archived.world.user_ids["rep_a"], "participant_joined", {
            "participant_id": "p9", "user_id": archived.world.user_ids["rep_a"], "display_name": "李明华",
            "unit": "凤庆县发展和改革局", "capacity": "member", "department_id": archived.world.dept_fgj,
            "post": "A", "token_id": None, "via": "session"})
        await append_event(db, meeting, archived.world.user_ids["rep_a"], "producer_published", {
            "participant_id": "p9", "producer_id": "x1", "kind": "video", "mime_type": "video/VP8"})
        await append_event(db, meeting, archived.world.user_ids["chair"], "recording_started", {
            "recording_key": missing_key, "consent_notice": "本次会议全程录音录像。"})
        await db.commit()
    await sign_in(client, "archivist")
    dossier = await (await client.get(f"/archive/cases/{archived.world.case_x}?lang=zh")).text()
    text = _visible_text(dossier)
    assert "参会人" not in INTERNAL_CODES and "开启音视频" in text and "出席" in text
    assert not [code for code in INTERNAL_CODES if re.search(rf"(?<![\w/.-]){code}(?![\w/.-])", text)]
    assert leaks(text) == [], leaks(text)
    assert 'class="col-who"' in dossier and "/static/css/archive.css" in dossier

    log = await (await client.get(f"/meetings/{meeting}?lang=zh")).text()
    events = _visible_text(log, "events-title")
    assert "开启音视频" in events and "producer_published" not in events
    assert leaks(events) == [], leaks(events)

    # One truth about the recording the log records but storage lacks.
    assert missing_key in text and "存储中没有其录像文件" in text
    listing = _visible_text(await (await client.get(f"/meetings/{meeting}/recordings?lang=zh")).text())
    assert missing_key in listing and "存储中没有其录像文件" in listing and "没有录像" not in listing


async def test_dossier_in_english_shows_the_english_notes(client: TestClient, db_sessions,
                                                          settings: Settings) -> None:
    archived = await archived_case(db_sessions, settings)
    await sign_in(client, "archivist")
    english = _visible_text(await (await client.get(f"/archive/cases/{archived.world.case_x}?lang=en")).text())
    assert "event log, hash-chained" in english and "事件日志（哈希链" not in english
    assert " (member)" in english and "（member）" not in english and "（出席）" not in english


async def test_dossier_rows_tell_the_whole_truth(client: TestClient, db_sessions, settings: Settings) -> None:
    """A status change reads from → to in the reader's language; a camera or microphone row names
    whose it is (a mute's actor is the chair), so does a row of poor video; the chair's finalise note and the notice (by its
    number) are listed as the minutes page lists them."""
    archived = await archived_case(db_sessions, settings)
    meeting, rep = archived.meeting_1, archived.world.user_ids["rep_a"]
    async with db_sessions() as db:
        await append_event(db, meeting, rep, "participant_paused",
                           {"participant_id": "p1", "user_id": rep, "kind": "video"})
        await append_event(db, meeting, archived.world.user_ids["chair"], "participant_muted",
                           {"participant_id": "p1", "user_id": rep, "kind": "audio"})
        await append_event(db, meeting, rep, "participant_joined", {
            "participant_id": "p2", "user_id": rep, "display_name": "王发改", "unit": "凤庆县发展和改革局",
            "capacity": "member", "department_id": archived.world.dept_fgj, "post": "A", "token_id": None,
            "via": "session"})
        # the server closes a leaver's tracks itself: no actor, the row still names whose they were
        await append_event(db, meeting, None, "producer_unpublished",
                           {"participant_id": "p2", "producer_id": "x2", "kind": "screen"})
        # the system notes a site's poor video: no actor, the row names whose video it was
        await append_event(db, meeting, None, "link_degraded", {
            "participant_id": "p2", "user_id": rep, "since": "2026-12-01T02:00:00+00:00", "layer": 0,
            "wanted": 2, "layers": 3, "reason": "loss"})
        await db.commit()
    await sign_in(client, "archivist")
    api = await (await client.get(f"/api/v1/archive/cases/{archived.world.case_x}/dossier")).json()
    events = api["meetings"][0]["events"]
    muted = next(e for e in events if e["type"] == "participant_muted")
    assert (muted["actor"], muted["subject"], muted["media"]) == ("李主任", "王发改", "audio")
    closed = next(e for e in events if e["type"] == "producer_unpublished")
    assert (closed["actor"], closed["subject"], closed["media"]) == (None, "王发改", "screen")
    poor = next(e for e in events if e["type"] == "link_degraded")
    assert (poor["actor"], poor["subject"], poor["media"]) == (None, "王发改", "video")
    started = next(e for e in events if e["type"] == "meeting_status_changed")
    assert (started["status_from"], started["status_to"]) == ("scheduled", "live")
    notice = next(f for f in api["files"] if f["name"] == f"meeting-{meeting}/notice.pdf")
    number = api["meetings"][0]["minutes"]["number"].replace("纪", "告")
    assert number in notice["note"]["zh"] and number in notice["note"]["en"]

    for lang, rows in (("zh", ("已安排 → 进行中", "王发改 · 摄像头", "王发改 · 麦克风", "王发改 · 屏幕共享",
                               "定稿说明：发改局未在期限内确认")),
                       ("en", ("scheduled → live", "王发改 · camera", "王发改 · microphone", "王发改 · screen sharing",
                               "Note on finalising: 发改局未在期限内确认"))):
        # compared without white space: the page's elements split a row into several texts
        text = "".join(_visible_text(await (await client.get(
            f"/archive/cases/{archived.world.case_x}?lang={lang}")).text()).split())
        for row in rows:
            assert "".join(row.split()) in text, (lang, row)
        assert number in text


def test_every_event_type_has_a_label() -> None:
    """The dossier and the meeting page name each event by `meetings.event.<type>`."""
    from server.web.i18n import LANGUAGES, catalog

    for lang in LANGUAGES:
        assert {t for t in EVENT_TYPES if f"meetings.event.{t}" not in catalog(lang)} == set(), lang
