"""Sessions, CSRF, request limits and safe names.

* A session is a random cookie (``xlt_session``, HttpOnly, SameSite=Strict, Secure behind
  TLS); the database keeps its SHA-256, the role (bureau or officer) and the bureau.
* CSRF: every page sets a random ``xlt_csrf`` cookie (SameSite=Strict) and puts the same value
  in its forms; every POST must carry it back (form field ``csrf`` or header
  ``X-CSRF-Token``), and a POST whose ``Origin`` names another host is refused.
* The upload body is counted as it streams in: past the limit the request is cut off
  (:class:`TooLarge`), whatever its ``Content-Length`` said.
* The file name a browser sends is shown, never used as a path (:func:`display_name`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from .tokens import digest, same

SESSION_COOKIE = "xlt_session"
CSRF_COOKIE = "xlt_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


class Refused(Exception):
    """A request refused for a reason the user can act on: HTTP status, stable English code
    and a Chinese message. Never a traceback."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class TooLarge(Refused):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "serve-upload-too-large",
            f"上传的文件超过大小上限 {limit / 1024 / 1024:.0f} MB，已拒收。自评表通常只有几百 KB；"
            "请确认选择的是填好的自评表（.xlsx），不是扫描件或压缩包。",
        )


class LimitedReceive:
    """An ASGI ``receive`` that raises :class:`TooLarge` once more than ``limit`` body bytes
    came; ``ended`` tells whether the client's body is all in (then nothing is left to
    drain: one more ``receive`` would wait for the client to go away)."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive, self.limit = receive, limit
        self.seen, self.ended = 0, False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message.get("type") == "http.request":
            self.seen += len(message.get("body", b""))
            self.ended = not message.get("more_body", False)
            if self.seen > self.limit:
                raise TooLarge(self.limit)
        else:
            self.ended = True
        return message


async def drain(receive: Receive, cap: int) -> None:
    """Read and drop what is left of a refused body, up to ``cap`` bytes: a client that is
    still sending when the answer comes and the connection closes may lose the answer (the
    peer's reset discards it). Past ``cap`` the connection is closed all the same. Call it
    only while the body has not ended."""
    seen = 0
    while seen <= cap:
        message = await receive()
        if message.get("type") != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(cookie: str | None, sent: str | None) -> None:
    if not cookie or not sent or not same(cookie, sent):
        raise Refused(
            403,
            "serve-csrf",
            "页面已过期或请求不是从本页面发出的（安全校验未通过）。请刷新页面后重试。",
        )


def check_origin(origin: str | None, host: str | None) -> None:
    """A browser names the page a POST came from; it must be this site."""
    if not origin:
        return
    if origin == "null" or urlsplit(origin).netloc != (host or ""):
        raise Refused(
            403,
            "serve-cross-site",
            "请求来自其他网站，已拒绝。请直接在本系统的页面上操作。",
        )


def session_expiry(hours: float) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    return moment.replace(microsecond=0).isoformat()


def new_session() -> tuple[str, str]:
    """A session id for the cookie and its stored hash."""
    value = secrets.token_urlsafe(32)
    return value, digest(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def display_name(sent: str | None) -> str:
    """The name the browser sent, for showing: its last path part (``../../x.xlsx`` →
    ``x.xlsx``, ``C:\\a\\b.xlsx`` → ``b.xlsx``), without control characters, at most 200
    characters. It names nothing on disk: blobs are named by their SHA-256."""
    name = (sent or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip()
    if name in ("", ".", ".."):
        name = "未命名.xlsx"
    return name[:200]
