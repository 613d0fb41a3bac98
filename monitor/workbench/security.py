"""What keeps the workbench safe on a shared machine or network.

* Passwords are stored as scrypt hashes (``scrypt$n$r$p$salt$hash``, stdlib ``hashlib``: no
  extra dependency for one function) and checked by HTTP Basic authentication.
* Every write carries a CSRF token (an HMAC of a per-process secret) in ``X-CSRF-Token``, so a
  page in the analyst's own browser cannot post decisions, even to a loopback server.
* Every response carries a Content-Security-Policy; the Host header is checked by Starlette's
  ``TrustedHostMiddleware`` (against DNS rebinding).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
EVIDENCE_CSP = "sandbox; default-src 'none'"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def hash_password(password: str) -> str:
    """The value for the ``serve_password_hash`` setting."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def is_password_hash(value: str) -> bool:
    parts = value.split("$")
    return len(parts) == 6 and parts[0] == "scrypt"


class Guard:
    """ASGI middleware: login (when a password hash is set), CSRF on writes, security headers.

    Puts the user's name in ``scope["state"]["who"]`` and the CSRF token in ``...["csrf"]``."""

    def __init__(self, app: ASGIApp, analyst: str, password_hash: str = "") -> None:
        self.app = app
        self.analyst = analyst or "analyst"
        self.password_hash = password_hash
        self.csrf = secrets.token_urlsafe(32)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        who = self.analyst
        if self.password_hash:
            login = self._login(headers.get("authorization", ""))
            if login is None:
                response = PlainTextResponse("login required", status_code=401,
                                             headers={"WWW-Authenticate": 'Basic realm="wtm workbench", charset="UTF-8"'})
                await response(scope, receive, send)
                return
            who = login
        if scope["method"] not in SAFE_METHODS and not hmac.compare_digest(
                headers.get("x-csrf-token", "").encode(), self.csrf.encode()):
            await PlainTextResponse("missing or wrong CSRF token", status_code=403)(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["who"], state["csrf"] = who, self.csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {k.lower() for k, _ in raw}
                if b"content-security-policy" not in names:
                    raw.append((b"content-security-policy", PAGE_CSP.encode()))
                raw += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                        (b"cache-control", b"no-store")]
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _login(self, authorization: str) -> str | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if user and verify_password(password, self.password_hash):
            return user[:100]
        return None
