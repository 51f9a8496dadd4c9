"""API keys: `agw_<key id>_<secret>`, shown once, stored as the SHA-256 of
the secret (256 random bits need no slow hash), scoped.

Scopes: `read` (program state), `charge` (create and read its merchant's
charges), `admin` (everything). A key belongs to a merchant: request ids,
charges and their lists are per merchant, so keys can be rotated without
losing idempotency."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from keeper.gateway.store import KeyRow, Store

PREFIX = "agw_"
SCOPES = ("read", "charge", "admin")
MERCHANT = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_TOKEN = re.compile(r"^agw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
KEY_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_UNKNOWN = 10_000
DEFAULT_CACHE_SECS = 2.0
"""How long a process trusts a key it looked up: a revocation reaches every
gateway process within this time."""


class KeyRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    row: KeyRow
    token: str
    """The only time the secret exists outside the caller's hands."""


def create(store: Store, merchant: str, scopes: set[str], label: str, rate_per_sec: int, burst: int) -> NewKey:
    if not MERCHANT.match(merchant):
        raise ValueError(f"merchant {merchant!r}: 1-64 of a-z 0-9 _ . - (starting with a letter or digit)")
    unknown = scopes - set(SCOPES)
    if not scopes or unknown:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)} (got {', '.join(sorted(scopes)) or 'none'})")
    if rate_per_sec < 1 or burst < 1:
        raise ValueError("the rate and the burst must be at least 1")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = KeyRow(key_id, merchant, label[:128], frozenset(scopes), digest(secret), rate_per_sec, burst, int(time.time()), None)
    store.add_key(row)
    return NewKey(row, f"{PREFIX}{key_id}_{secret}")


def as_dict(row: KeyRow) -> dict[str, object]:
    """A key as lists show it: never its secret or hash."""
    return {
        "key_id": row.key_id, "merchant": row.merchant, "label": row.label, "scopes": sorted(row.scopes),
        "rate_per_sec": row.rate_per_sec, "burst": row.burst, "created_at": row.created_at, "revoked_at": row.revoked_at,
    }


def bearer(header: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header."""
    if not header:
        raise KeyRefused("missing_api_key", "send the API key as `Authorization: Bearer agw_...`")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise KeyRefused("invalid_api_key", "the Authorization header must be `Bearer agw_...`")
    return token.strip()


class KeyRing:
    """Keys looked up by id, each trusted for `cache_secs` (revocations and
    new keys reach this process within that time)."""

    def __init__(self, store: Store, cache_secs: float = DEFAULT_CACHE_SECS) -> None:
        self.store = store
        self.cache_secs = cache_secs
        self._known: dict[str, tuple[float, KeyRow]] = {}
        self._unknown: dict[str, float] = {}

    def lookup_cached(self, key_id: str) -> tuple[bool, KeyRow | None]:
        """(hit, row) without touching the database."""
        now = time.monotonic()
        found = self._known.get(key_id)
        if found is not None and now - found[0] <= self.cache_secs:
            return True, found[1]
        missing = self._unknown.get(key_id)
        return (missing is not None and now - missing <= self.cache_secs), None

    def forget(self, key_id: str) -> None:
        """Drop `key_id` from this process's cache (it was just revoked here)."""
        self._known.pop(key_id, None)

    def load(self, key_id: str) -> KeyRow | None:
        """Read `key_id` from the database (in a worker thread) and cache it."""
        row = self.store.key(key_id)
        if row is None:
            if len(self._unknown) >= MAX_UNKNOWN:
                self._unknown.clear()  # a scanner's ids evict only each other, never real keys
            self._unknown[key_id] = time.monotonic()
        else:
            self._known[key_id] = (time.monotonic(), row)
        return row


def parse(token: str) -> tuple[str, str]:
    """(key id, secret) of a well-formed token."""
    found = _TOKEN.match(token)
    if found is None:
        raise KeyRefused("invalid_api_key", "not an API key of this gateway")
    return found.group(1), found.group(2)


def check(row: KeyRow | None, secret: str, scope: str) -> KeyRow:
    """The key, if `secret` is its own, it is live and holds `scope` (any scope: "")."""
    if row is None or not hmac.compare_digest(row.secret_hash, digest(secret)):
        raise KeyRefused("invalid_api_key", "not an API key of this gateway")
    if row.revoked_at is not None:
        raise KeyRefused("api_key_revoked", f"key {row.key_id} was revoked")
    if scope and scope not in row.scopes and "admin" not in row.scopes:
        raise KeyRefused("insufficient_scope", f"key {row.key_id} lacks the {scope!r} scope")
    return row
