"""Helpers for the review-conduct tests: participants that join without media, and their requests."""

from __future__ import annotations

from typing import Any

from server.bot.signaling import BotClient

from .signaling_harness import LiveServer

CONDITIONAL = {"kind": "conditional", "text": "原则支持项目建设",
               "conditions": ["开工前取得环评批复"], "reasons": "", "legal_basis": "",
               "materials": [{"material": "环境影响登记表", "detail": "盖章版",
                              "due_working_days": 5}]}


ACK_WAIT_S = 30.0  # an answer or a broadcast: generous, for a loaded two-core machine


class Seat:
    """A joined participant (no media) that sends review requests for its meeting."""

    def __init__(self, bot: BotClient) -> None:
        self.bot = bot

    @property
    def id(self) -> str:
        assert self.bot.participant_id is not None
        return self.bot.participant_id

    @property
    def review(self) -> dict[str, Any]:
        """The latest review state this participant knows (join ack, then broadcasts)."""
        states = self.bot.seen("review_state")
        return states[-1] if states else self.bot.joined["review"]

    async def ask(self, event: str, **payload: Any) -> dict[str, Any]:
        """The raw ack (ok or refused)."""
        return await self.bot.sio.call(event, {"meeting_id": self.bot.meeting_id, **payload}, timeout=ACK_WAIT_S)

    async def do(self, event: str, **payload: Any) -> dict[str, Any]:
        ack = await self.ask(event, **payload)
        assert ack.get("ok"), (event, ack)
        return ack

    async def refused(self, event: str, code: str, **payload: Any) -> dict[str, Any]:
        ack = await self.ask(event, **payload)
        assert not ack["ok"] and ack["error"]["code"] == code, (event, ack)
        return ack["error"]

    async def state_where(self, test: Any, timeout: float = ACK_WAIT_S) -> dict[str, Any]:
        """The first broadcast review_state satisfying ``test`` (past or future)."""
        _, state = await self.bot.wait_event(lambda n, d: n == "review_state" and test(d), timeout)
        return state


async def seat(live: LiveServer, username: str, meeting: int | None = None) -> Seat:
    return Seat(await live.bot(username, publish=(), meeting=meeting))


async def seats(live: LiveServer, *usernames: str) -> list[Seat]:
    """Join in order (the order matters: the first applicant present presents)."""
    return [await seat(live, name) for name in usernames]
