"""Token check (constant time), security headers (CSP) and the request-body bound, as plain ASGI middleware
so they also cover streamed responses and static files."""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from http.cookies import SimpleCookie

TOKEN_COOKIE = "critmin_token"
OPEN_PATHS = ("/login", "/static/", "/favicon.ico")

# Plotly injects its own <style> rules at run time, hence 'unsafe-inline' for styles; scripts are same-origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def tokens_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a guess was right."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class FailedAttempts:
    """Slows down token guessing: after a client's n-th wrong token within ``window`` seconds, its answer
    waits ``first_delay * 2**(n-1)`` seconds, at most ``max_delay``. A right token clears the count."""

    def __init__(self, first_delay: float = 0.25, max_delay: float = 8.0, window: float = 600.0):
        self.first_delay, self.max_delay, self.window = first_delay, max_delay, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def failed(self, client: str) -> float:
        """Record a failure; returns how long to wait before answering it."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(client, []) if now - t < self.window] + [now]
            self._failures[client] = recent
            if len(self._failures) > 10_000:  # bounded memory under a flood of addresses
                self._failures = {k: v for k, v in self._failures.items() if now - v[-1] < self.window}
        return min(self.first_delay * 2 ** (len(recent) - 1), self.max_delay)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def client_of(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _presented_token(scope) -> str | None:
    """The token from ``Authorization: Bearer`` or the login cookie. Never from the query string, which ends
    up in access logs."""
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
    return cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None


async def _send_json(send, status: int, detail: list[dict], extra_headers=()) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """Adds the security headers to every response; with a token configured, refuses requests without it
    (401 for the API, a redirect to /login for pages)."""

    def __init__(self, app, token: str | None, attempts: FailedAttempts | None = None):
        self.app, self.token = app, token
        self.attempts = attempts or FailedAttempts()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if self.token and not path.startswith(OPEN_PATHS) and not tokens_match(_presented_token(scope), self.token):
            if _presented_token(scope) is not None:  # a wrong guess, not a first visit without one
                await asyncio.sleep(self.attempts.failed(client_of(scope)))
            if path.startswith(("/api/", "/openapi.json")):
                return await _send_json(
                    send, 401, [{"loc": ["header", "authorization"], "msg": "missing or wrong token",
                                 "type": "auth_error"}], [(b"www-authenticate", b"Bearer"), *SECURITY_HEADERS],
                )  # fmt: skip
            headers = [(b"location", b"/login"), (b"content-length", b"0"), *SECURITY_HEADERS]
            await send({"type": "http.response.start", "status": 303, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimitMiddleware:
    """413 for bodies over ``limit`` bytes, whether declared by Content-Length or streamed in chunks. Bodies
    are small by design (scenario YAML), so they are read in full here, within the limit, and replayed."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)  # no body
        too_big = [{"loc": ["body"], "msg": f"request body over {self.limit} bytes", "type": "too_large"}]
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _send_json(send, 413, too_big, SECURITY_HEADERS)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await _send_json(send, 413, too_big, SECURITY_HEADERS)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
