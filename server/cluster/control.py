"""Acts that must be applied on another node: a chair's mute or removal of someone that node
serves, a chair's recording start or stop for the meeting's home.

A chair on node A acting on a participant node B serves (``LiveMeeting.remote``) cannot touch B's
SFU peer or B's socket: A sends the act to B over Redis (``<ns>:control:<node>``, one channel per
node, so a message reaches its addressee only) and waits for B's answer, which becomes the chair's
ack. Every message is validated on arrival (``Request``, ``RecordingRequest``, ``Reply``); B
applies the act as the chair's own node would (``Signaling.moderate_here``), so the record, the
SFU and the room follow as in one node. A recording act goes to the meeting's home, the node that
records (server.live_recording). The chair is told at once (``node_gone``) when the addressee is
not in the directory or no longer listens, and ``node_timeout`` when it does not answer in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.signaling.errors import SignalingError
from server.signaling.messages import LobbyDecision, Mute, Remove, StopScreenShare

logger = logging.getLogger(__name__)

CONTROL_ERRORS = (RedisError, OSError)
ANSWER_TIMEOUT_S = 10.0
"""How long a chair waits for the serving node's answer (a round trip over Redis takes
milliseconds; the act itself, an SFU mute or a disconnect, well under a second)."""
REDIS_RETRY_S = 1.0
"""Pause before subscribing again after Redis went away."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    sender: str = Field(min_length=1, max_length=200)


class Request(_Message):
    """A chair's act on someone the addressee serves (a participant, someone in its lobby)."""

    kind: Literal["moderate"] = "moderate"
    meeting_id: int
    chair_id: str = Field(min_length=1, max_length=64)
    chair_user_id: int | None
    action: Annotated[Mute | StopScreenShare | Remove | LobbyDecision, Field(discriminator="action")]


class RecordingRequest(_Message):
    """A chair's recording start or stop, for the meeting's home (the node that records it)."""

    kind: Literal["recording"] = "recording"
    meeting_id: int
    verb: Literal["start", "stop"]
    actor_user_id: int | None
    consent_notice: str | None = Field(default=None, max_length=500)


class Reply(_Message):
    """The addressee's answer: the ack's payload, or the refusal (code, message)."""

    kind: Literal["reply"] = "reply"
    result: dict[str, Any] | None = None
    error: str | None = None
    message: str | None = None


Asked = Request | RecordingRequest
MESSAGE: TypeAdapter[Asked | Reply] = TypeAdapter(
    Annotated[Request | RecordingRequest | Reply, Field(discriminator="kind")])
Applier = Callable[[Asked], Awaitable[dict[str, Any]]]
"""Applies a request here; raises SignalingError to refuse it."""


class ControlChannel:
    """This node's inbox of acts from other nodes, and its way to send acts and await answers."""

    def __init__(self, node_id: str, namespace: str, redis: Redis, apply: Applier) -> None:
        self.node_id = node_id
        self._namespace = namespace
        self._redis = redis
        self._apply = apply
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._task: asyncio.Task[None] | None = None

    def channel(self, node_id: str) -> str:
        return f"{self._namespace}:control:{node_id}"

    async def ask(self, node_id: str, request: Asked) -> dict[str, Any]:
        """Send ``request`` to ``node_id`` and return its answer; SignalingError if refused there,
        or if the node is gone or does not answer."""
        future = self._waiting[request.id] = asyncio.get_running_loop().create_future()
        try:
            try:
                listeners = await self._redis.publish(self.channel(node_id), request.model_dump_json())
            except CONTROL_ERRORS as exc:
                raise SignalingError("cluster_unavailable",
                                     f"集群通道不可用 / the cluster channel is away: {exc}") from None
            if not listeners:
                raise SignalingError("node_gone", f"节点 {node_id} 不在线 / node {node_id} is not running",
                                     node=node_id)
            try:
                reply = await asyncio.wait_for(future, ANSWER_TIMEOUT_S)
            except TimeoutError:
                raise SignalingError("node_timeout", f"节点 {node_id} 未应答 / node {node_id} did not answer",
                                     node=node_id) from None
        finally:
            self._waiting.pop(request.id, None)
        if reply.error is not None:
            raise SignalingError(reply.error, reply.message)
        return reply.result or {}

    def new_id(self) -> str:
        return secrets.token_hex(8)

    async def _heard(self, data: str | bytes) -> None:
        try:
            message = MESSAGE.validate_json(data)
        except ValidationError as exc:
            logger.warning("node %s: a control message refused (%s): %r", self.node_id, exc, data[:500])
            return
        if isinstance(message, Reply):
            waiting = self._waiting.get(message.id)
            if waiting is not None and not waiting.done():
                waiting.set_result(message)
            return
        try:
            reply = Reply(id=message.id, sender=self.node_id, result=await self._apply(message))
        except SignalingError as refused:
            reply = Reply(id=message.id, sender=self.node_id, error=refused.code, message=refused.message)
        except Exception:  # one act failing must not stop the inbox; the chair hears why
            logger.exception("node %s: control request %s failed", self.node_id, message.id)
            reply = Reply(id=message.id, sender=self.node_id, error="internal",
                          message="节点处理失败 / the serving node failed to apply it")
        try:
            await self._redis.publish(self.channel(message.sender), reply.model_dump_json())
        except CONTROL_ERRORS as exc:  # the asker times out and tells its chair
            logger.warning("node %s: reply to %s not sent (%s)", self.node_id, message.sender, exc)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel(self.node_id))
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self._heard(message["data"])
            except CONTROL_ERRORS as exc:
                logger.warning("node %s: the control subscription dropped (%s); subscribing again",
                               self.node_id, exc)
                await asyncio.sleep(REDIS_RETRY_S)  # a pause between attempts, not a synchronisation
            finally:
                await pubsub.aclose()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="cluster control")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

