"""The people and meetings of bench/levels.py, written into the county's PostgreSQL.

A province, a city and a county division; at each level departments with an A and a B post (two
chief representatives each, the AB post system), invited to the meetings as members; the chair
(no department: routed to the meeting's home). One meeting per size measured, so each size starts
from a meeting with no one in it, homed on the province by its chair's first join.

Everyone gets a single-use join token made out to their account (``tokens.Invitee(user_id=...)``):
the join is their own, with their department's level, which is what routes them to their level's
node (server/cluster/routing.py); a token spares 90 argon2 sign-ins on a 2-core machine. All
accounts share one real argon2 hash (of a password nobody uses) for the same reason.
"""

from __future__ import annotations

import asyncio
import datetime
import math
from dataclasses import dataclass, field
from datetime import UTC

from server.auth.passwords import hash_password
from server.db.engine import create_engine, session_factory
from server.db.models import Department, Division, Invitation, Meeting, User
from server.domain.roles import Post, Role
from server.signaling import tokens

LEVELS = ("province", "city", "county")
DIVISIONS = {"province": ("530000", "云南省", None), "city": ("530900", "临沧市", "530000"),
             "county": ("530921", "凤庆县", "530900")}


@dataclass
class Seat:
    """One participant of one meeting: who, at which level, whether they publish, their token."""

    name: str
    level: str
    publish: bool
    token: str = ""


@dataclass
class BenchWorld:
    chair_id: int
    people: dict[str, list[int]] = field(default_factory=dict)
    """Level -> the chief representatives' user ids at that level."""
    meetings: dict[int, int] = field(default_factory=dict)
    """Participants per level -> its meeting's id."""


async def _seed(database_url: str, sizes: list[int]) -> BenchWorld:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db:
            now = datetime.datetime.now(UTC)
            db.add_all([Division(code=code, name=name, level=level, parent_code=parent)
                        for level, (code, name, parent) in DIVISIONS.items()])
            await db.flush()
            password_hash = await hash_password("bench-unused-password")
            chair = User(username="bench_chair", display_name="李主任", password_hash=password_hash,
                         role=Role.CHAIR.value, created_at=now)
            db.add(chair)
            departments: dict[str, list[Department]] = {}
            people: dict[str, list[User]] = {}
            most = max(sizes)
            for level in LEVELS:
                code = DIVISIONS[level][0]
                departments[level] = [Department(code=f"B-{code}-{i:02d}", name=f"{DIVISIONS[level][1]}第{i + 1}部门",
                                                 short_name=f"{level}{i + 1}", division_code=code)
                                      for i in range(math.ceil(most / 2))]
                db.add_all(departments[level])
                await db.flush()
                people[level] = [User(username=f"bench_{level}_{i}", display_name=f"{level} {i}",
                                      password_hash=password_hash, role=Role.CHIEF_REP.value,
                                      department_id=departments[level][i // 2].id,
                                      post=(Post.A if i % 2 == 0 else Post.B).value, created_at=now)
                                 for i in range(most)]
                db.add_all(people[level])
            await db.flush()
            world = BenchWorld(chair.id, {level: [u.id for u in users] for level, users in people.items()})
            lead = departments["province"][0]
            for size in sizes:
                meeting = Meeting(
                    title=f"三级联审会议（每级 {size} 人）", status="scheduled", scheduled_start=now,
                    scheduled_end=now + datetime.timedelta(hours=2), place="省政务服务中心会商室",
                    chair_id=chair.id, lead_department_id=lead.id, created_by_id=chair.id, created_at=now,
                    invitations=[Invitation(capacity="member", department_id=d.id)
                                 for level in LEVELS for d in departments[level][:math.ceil(size / 2)]])
                db.add(meeting)
                await db.flush()
                world.meetings[size] = meeting.id
            await db.commit()
            return world
    finally:
        await engine.dispose()


def seed(database_url: str, sizes: list[int]) -> BenchWorld:
    return asyncio.run(_seed(database_url, sizes))


def seats(size: int) -> list[Seat]:
    """``size`` participants per level; the first of each level publishes camera and microphone,
    the province's first is the chair (whose join makes the province the meeting's home)."""
    return [Seat(f"{level[:2]}{i}", level, i == 0) for level in LEVELS for i in range(size)]


def issue_tokens(database_url: str, secret: bytes, world: BenchWorld, size: int, chosen: list[Seat]) -> None:
    """A join token for each seat, made out to its account, issued by the chair."""
    async def issue() -> None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as db:
                taken = dict.fromkeys(LEVELS, 0)
                for seat in chosen:
                    if seat.level == "province" and seat.publish:
                        user_id = world.chair_id
                    else:
                        user_id = world.people[seat.level][taken[seat.level]]
                        taken[seat.level] += 1
                    seat.token, _row = await tokens.issue(
                        db, secret, world.meetings[size], world.chair_id, tokens.Invitee(user_id=user_id),
                        datetime.timedelta(hours=2), capacity="member")
                await db.commit()
        finally:
            await engine.dispose()

    asyncio.run(issue())
