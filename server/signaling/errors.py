"""Refusals sent to socket.io clients: a stable machine code and a bilingual message.

Every refusal reaches the client the same way (an ``error`` event, and the ack of the request if it
asked for one), so a client needs one error path, and every refusal is logged on the server.
"""

from __future__ import annotations

from typing import Any

# code -> default message (Chinese / English, like the HTTP API's errors)
MESSAGES: dict[str, str] = {
    "unauthenticated": "请先登录或使用有效的入会链接 / sign in or use a valid join link",
    "bad_token": "入会链接无效 / the join link is not valid",
    "token_expired": "入会链接已过期 / the join link has expired",
    "token_used": "入会链接已被使用 / the join link has already been used",
    "token_wrong_meeting": "入会链接不属于该会议 / the join link is for another meeting",
    "bad_resume": "重连凭据无效或已过期 / the resume secret is unknown or expired",
    "meeting_not_found": "会议不存在或无权参加 / no such meeting, or not yours to join",
    "meeting_not_open": "会议未开放入会 / the meeting is not open for joining",
    "meeting_locked": "会议已锁定，不再接纳新参会者 / the meeting is locked to newcomers",
    "lobby_rejected": "主持人未准许入会 / the chair did not admit you",
    "removed": "您已被主持人移出会议 / the chair removed you from the meeting",
    "already_joined": "本连接已加入会议 / this connection has already joined",
    "not_joined": "请先加入会议 / join the meeting first",
    "wrong_meeting": "不能操作其他会议 / this connection belongs to another meeting",
    "not_chair": "只有主持人可以执行此操作 / only the chair may do this",
    "unknown_participant": "参会者不存在 / no such participant in this meeting",
    "unknown_lobby_entry": "等候室中没有该人员 / no such person in the lobby",
    "unknown_producer": "未收到该视频 / this connection does not receive that video",
    "not_sharing": "该参会者未共享屏幕 / the participant is not sharing a screen",
    "bad_sdp": "会话描述（SDP）无效 / the session description (SDP) was refused",
    "bad_state": "当前状态不允许此操作 / not possible in the current state",
    "unknown_event": "未知的事件 / unknown event",
    "invalid_payload": "事件数据格式错误 / malformed event payload",
    "too_large": "事件数据过大 / event payload too large",
    "rate_limited": "操作过于频繁，部分请求被拒绝 / too many events, some were refused",
    "flood": "操作过于频繁，连接已断开 / too many events, disconnected",
    "internal": "服务器内部错误 / internal error",
}


class SignalingError(Exception):
    """A refusal of one client event; the meeting and the connection carry on."""

    def __init__(self, code: str, message: str | None = None, **details: Any) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, MESSAGES["internal"])
        self.details = details
        super().__init__(f"{code}: {self.message}")

    def payload(self, event: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if event is not None:
            body["event"] = event
        if self.details:
            body["details"] = self.details
        return body
