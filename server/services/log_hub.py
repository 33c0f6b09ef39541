"""Events committed to meetings' logs outside the room, told to whoever follows them live.

A meeting's log is written two ways. The live meeting writes its room's events through its own
queue (server.signaling.events.MeetingLog), whose listeners take each one as it is written.
Everything else writes through services.eventlog.append_event inside its own transaction: a status
change over the API, a department's amendment in the minutes, an excuse, a join token, the minutes
drafted when the meeting ends. This hub brings the second kind to a live meeting: append_event notes
each event in its session (eventlog.APPENDED) and when that session commits, the hub tells its
followers (the signaling server, which hands an event of a live meeting to that meeting as if the
room had written it). An event is told only once it is committed, and after the commit, not inside
it: a request that rolls back tells nobody (nor does a savepoint that rolls back), and a follower
never runs inside the database's work.

Other nodes of a cluster hold the same meetings live (server.cluster.feed). For them the hub also
tells, after each commit, the highest seq it stored of each meeting, whoever wrote it: the room's
own writes included (they are not told to the followers above, whose live meeting took them as
they were written). A node announces that on Redis, and the others read the new events from the
database: an announcement is only a wake-up, so one too many (a savepoint that rolled back) costs a
read that finds nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from record.events import Logged
from server.db.models import MeetingEvent
from server.services.eventlog import APPENDED

logger = logging.getLogger(__name__)
SAVEPOINTS = "log_hub.savepoints"
"""Key of a session's ``info``: each open savepoint -> how many events were appended before it."""

STORED = "log_hub.stored"
"""Key of a session's ``info``: the (meeting id, seq) of each event flushed in its transaction."""

Follower = Callable[[int, Logged], None]
"""Called with the meeting id and the event, on the event loop, in the order of the commits."""
SeqFollower = Callable[[dict[int, int]], None]
"""Called with meeting id -> the highest seq a commit stored, on the event loop, after the commit."""


class LogHub:
    """Tells its followers every event that sessions it watches append and commit."""

    def __init__(self) -> None:
        self._followers: list[Follower] = []
        self._seq_followers: list[SeqFollower] = []
        self.pending: set[tuple[int, int]] = set()
        """(meeting id, seq) of events this process has stored or is storing and not yet told
        (flushed, not committed, or committed with the followers not yet called): a reader of the
        log that must not take this process's own events before its followers do (the cluster's
        feed) waits for them."""

    def follow(self, follower: Follower) -> None:
        """Tell ``follower`` of every event committed from now on."""
        self._followers.append(follower)

    def follow_seqs(self, follower: SeqFollower) -> None:
        """Tell ``follower`` of each commit that stored events, room's own included: per meeting,
        the highest seq it stored (the cluster's feed announces it to the other nodes)."""
        self._seq_followers.append(follower)

    def watch(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Tell what the sessions ``sessions`` makes append, once each commits. The sessions get a
        Session class of their own, so that the listening stays with this hub (a process may run
        more than one app, as the tests do)."""
        base: type[Session] = sessions.kw.get("sync_session_class") or Session
        watched = cast("type[Session]", type("WatchedSession", (base,), {}))
        event.listen(watched, "after_transaction_create", _begun)
        event.listen(watched, "after_flush", self._flushed)
        event.listen(watched, "after_commit", self._committed)
        event.listen(watched, "after_transaction_end", self._ended)
        sessions.configure(sync_session_class=watched)

    def _committed(self, session: Session) -> None:
        savepoint = session.get_nested_transaction()
        if savepoint is not None:  # what it appended waits for the transaction around it
            session.info.get(SAVEPOINTS, {}).pop(savepoint, None)
            return
        appended: list[tuple[int, Logged]] = session.info.pop(APPENDED, [])
        if appended:
            asyncio.get_running_loop().call_soon(self._tell, appended)
        stored: list[tuple[int, int]] = session.info.pop(STORED, [])
        if stored:  # after _tell: a reader waiting for these finds them told
            asyncio.get_running_loop().call_soon(self._tell_seqs, stored)

    def _tell_seqs(self, stored: list[tuple[int, int]]) -> None:
        self.pending.difference_update(stored)
        highest: dict[int, int] = {}
        for meeting_id, seq in stored:
            highest[meeting_id] = max(highest.get(meeting_id, 0), seq)
        for follower in self._seq_followers:
            try:
                follower(highest)
            except Exception:  # as in _tell: the others still hear
                logger.exception("a follower of stored seqs failed on %s", highest)

    def _flushed(self, session: Session, _context: object) -> None:
        """Note each event this flush inserted (``new`` still holds them while the hook runs)."""
        rows = [(row.meeting_id, row.seq) for row in session.new if isinstance(row, MeetingEvent)]
        if rows:
            session.info.setdefault(STORED, []).extend(rows)
            self.pending.update(rows)

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # a commit took its rows already; these were rolled back
            self.pending.difference_update(session.info.pop(STORED, []))
        _ended(session, transaction)

    def _tell(self, appended: list[tuple[int, Logged]]) -> None:
        for meeting_id, logged in appended:
            for follower in self._followers:
                try:
                    follower(meeting_id, logged)
                except Exception:  # one follower's bug must not keep the others from hearing
                    logger.exception("meeting %d: a follower of the log failed on %s", meeting_id,
                                     logged.event.type)


def _begun(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(SAVEPOINTS, {})[transaction] = len(session.info.get(APPENDED, []))


def _ended(session: Session, transaction: SessionTransaction) -> None:
    """A transaction closed. The session's own: whatever was not told by its commit is forgotten
    (it rolled back, or was closed unfinished). A savepoint still marked (its commit unmarks it):
    it rolled back, and so did the events appended inside it (minutes_workflow.draft_after_meeting
    keeps the end of a meeting when drafting its minutes fails, in a savepoint)."""
    if transaction.parent is None:
        session.info.pop(APPENDED, None)
        session.info.pop(SAVEPOINTS, None)
        return
    mark = session.info.get(SAVEPOINTS, {}).pop(transaction, None)
    if mark is not None:
        del session.info.get(APPENDED, [])[mark:]
