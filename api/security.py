"""Who may call the API and how often: API keys, admin keys and per-client rate limits, as router dependencies.

create_app adds them in its one router loop: every router but /health gets `rate_limit` (when
KB_RATE_LIMIT_PER_MINUTE > 0) and then `require_api_key` (when KB_API_KEYS is set); the /admin router also gets
`require_admin`. /docs and /openapi.json stay open: they describe the API and hold no notes.

A key is sent as `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys are compared in constant time (as
SHA-256 digests, so not even their length leaks) and never logged: logs name a caller by `key_id`, a short hash.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from kb.config import Settings

API_KEY_HEADER = "X-API-Key"
Role = Literal["admin", "user"]

_api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="An API key (KB_API_KEYS or KB_ADMIN_KEYS)")
_bearer_scheme = HTTPBearer(auto_error=False, description="The same key as `Authorization: Bearer <key>`")


def parse_keys(value: str) -> tuple[str, ...]:
    """The keys of a comma-separated setting, blanks dropped."""
    return tuple(key.strip() for key in value.split(",") if key.strip())


def key_id(key: str) -> str:
    """A short, stable name for a key that is safe to log: 8 hex digits of its SHA-256, not the key."""
    return "key:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries: the X-API-Key header, else an `Authorization: Bearer` token."""
    key = (headers.get(API_KEY_HEADER) or "").strip()
    if key:
        return key
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (a test client's made-up host is not loopback)."""
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _any_match(digest: bytes, digests: tuple[bytes, ...]) -> bool:
    # Compare with every key, never stopping at the first match, so timing says nothing about which matched.
    found = False
    for candidate in digests:
        found |= hmac.compare_digest(digest, candidate)
    return found


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the role its key grants (None without a valid key), and a loggable id."""

    role: Role | None
    id: str
    host: str | None


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute, refilled evenly, a burst of up to a minute's worth."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when counted)
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """Take one request from the client's budget: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            tokens, since = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - since) * self._rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget_idle(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self._rate

    def _forget_idle(self, now: float) -> None:
        # Clients whose bucket has refilled are indistinguishable from new ones: drop them so memory stays bounded.
        if len(self._buckets) <= self._max_clients:
            return
        full = [c for c, (tokens, since) in self._buckets.items() if tokens + (now - since) * self._rate >= self.per_minute]
        for client in full:
            del self._buckets[client]


class Access:
    """The configured keys and the rate limiter of one app (kept on app.state.access)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._api_keys = tuple(map(_digest, parse_keys(settings.api_keys)))
        self._admin_keys = tuple(map(_digest, parse_keys(settings.admin_keys)))
        self._ip_salt = secrets.token_bytes(16)  # IPs are hashed per process: lines correlate, addresses do not show
        self.limiter = RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute > 0 else None

    @property
    def keys_required(self) -> bool:
        return bool(self._api_keys)

    @property
    def admin_configured(self) -> bool:
        return bool(self._admin_keys)

    def role(self, key: str | None) -> Role | None:
        """What a presented key grants: admin keys are accepted wherever an API key is."""
        if not key:
            return None
        digest = _digest(key)
        is_admin = _any_match(digest, self._admin_keys)
        is_user = _any_match(digest, self._api_keys)
        return "admin" if is_admin else "user" if is_user else None

    def ip_id(self, host: str | None) -> str:
        if not host:
            return "ip:unknown"
        return "ip:" + hmac.new(self._ip_salt, host.encode("utf-8"), hashlib.sha256).hexdigest()[:10]

    def identify(self, headers: Mapping[str, str], host: str | None) -> Caller:
        """The caller of a request: by its key when valid, else by its (hashed) address."""
        key = presented_key(headers)
        role = self.role(key)
        return Caller(role=role, id=key_id(key) if role and key else self.ip_id(host), host=host)


def _access(request: Request) -> Access:
    return request.app.state.access


def _key_of(api_key: str | None, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    return (api_key or "").strip() or (bearer.credentials.strip() if bearer else None) or None


ApiKeyHeader = Annotated[str | None, Security(_api_key_scheme)]
BearerToken = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer_scheme)]

_SEND_KEY = f"send it in the {API_KEY_HEADER} header or as `Authorization: Bearer <key>`"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def rate_limit(request: Request) -> None:
    """429 with Retry-After when the caller (its key, else its address) has used up its requests for now."""
    access = _access(request)
    if access.limiter is None:
        return
    caller = access.identify(request.headers, request.client.host if request.client else None)
    wait = access.limiter.acquire(caller.id)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"Too many requests: the limit is {access.limiter.per_minute} a minute per client. Retry in {retry_after} s.",
            "TooManyRequests",
            headers={"Retry-After": str(retry_after)},
        )


async def require_api_key(request: Request, api_key: ApiKeyHeader = None, bearer: BearerToken = None) -> None:
    """401 unless the request carries a valid API key (or admin key)."""
    key = _key_of(api_key, bearer)
    if key is None:
        raise ApiError(401, f"This API needs a key: {_SEND_KEY}.", "Unauthorized", headers=_CHALLENGE)
    if _access(request).role(key) is None:
        raise ApiError(401, "The API key is not valid.", "Unauthorized", headers=_CHALLENGE)


async def require_admin(request: Request, api_key: ApiKeyHeader = None, bearer: BearerToken = None) -> None:
    """Admin routes: an admin key (403 for an ordinary key); with none configured, 403 unless loopback is allowed."""
    access = _access(request)
    if not access.admin_configured:
        host = request.client.host if request.client else None
        if access.settings.admin_on_loopback and is_loopback(host):
            return
        raise ApiError(
            403,
            "Admin routes are disabled: no admin key is configured. Set KB_ADMIN_KEYS "
            "(or KB_ADMIN_ON_LOOPBACK=true to allow them from this machine without a key).",
            "Forbidden",
        )
    key = _key_of(api_key, bearer)
    if key is None:
        raise ApiError(401, f"Admin routes need an admin key: {_SEND_KEY}.", "Unauthorized", headers=_CHALLENGE)
    role = access.role(key)
    if role is None:
        raise ApiError(401, "The API key is not valid.", "Unauthorized", headers=_CHALLENGE)
    if role != "admin":
        raise ApiError(403, "This key may not use admin routes: they need an admin key (KB_ADMIN_KEYS).", "Forbidden")


def exposure_warning(settings: Settings) -> str | None:
    """Why serving on settings.api_host is risky (another address than this machine's, with no API key); else None."""
    host = settings.api_host
    if host == "localhost" or is_loopback(host) or parse_keys(settings.api_keys):
        return None
    reach = "every network interface" if host in ("0.0.0.0", "::", "") else host
    return (
        f"listening on {reach} with no API key: anyone who can reach this machine can read your notes. "
        "Set KB_API_KEYS (clients then send X-API-Key), or bind 127.0.0.1 (the default) and put a proxy in front."
    )
