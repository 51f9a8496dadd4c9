"""Revenue delivered by payment-provider webhooks, signed the way providers
sign them: the `X-Signature` header is `t=<unix seconds>,v1=<hex>`, where
the hex is HMAC-SHA256 of `<t>.<raw body>` under a shared secret. The
timestamp is inside the signed payload, so a captured delivery replays only
within the tolerance window; several `v1=` values are accepted (a secret
being rotated). The body is one flat JSON object."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from keeper.journal import RevenueEvent
from keeper.money import CURRENCY, DEFAULT_MAX_EVENT_CENTS, InvalidRevenue

SIGNATURE_HEADER = "X-Signature"
MAX_BODY_BYTES = 64 * 1024
DEFAULT_TOLERANCE_SECS = 300
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
MAX_JSON_DEPTH = 4
"""The event is a flat object; a few levels leave room for provider metadata."""


@dataclass(frozen=True)
class Refused(Exception):
    """A delivery refused before it reaches the journal: `code` is stable."""

    code: str
    message: str
    status: int = 400


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The header value a provider sends with `body` at `timestamp`."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, body: bytes, header: str | None, now: float, tolerance: int = DEFAULT_TOLERANCE_SECS) -> None:
    """Raise `Refused` unless `header` signs `body` within `tolerance`
    seconds of `now` (comparisons in constant time)."""
    if not header:
        raise Refused("missing_signature", f"the {SIGNATURE_HEADER} header is required", 401)
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and _HEX64.fullmatch(value):
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        raise Refused("bad_signature", f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex>", 401)
    if abs(now - timestamp) > tolerance:
        raise Refused("stale_signature", f"the signature's timestamp is more than {tolerance} s from now", 401)
    expected = sign(secret, body, timestamp).partition("v1=")[2]
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in candidates):
        raise Refused("bad_signature", "the signature does not match the body", 401)


def _depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in `body`, outside strings
    (measured before parsing, so a deep body never reaches the parser)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_event(body: bytes, max_cents: int = DEFAULT_MAX_EVENT_CENTS) -> RevenueEvent:
    """`{"ref", "source", "amount", "currency"?, "received_at"?}`; `amount` is
    a decimal string of ZAR (a JSON number would invite float rounding)."""
    if _depth(body) > MAX_JSON_DEPTH:
        raise Refused("too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused("invalid_json", f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise Refused("invalid_json", "body must be a JSON object")
    amount = payload.get("amount")
    if not isinstance(amount, str):
        raise InvalidRevenue("amount must be a decimal string, e.g. \"1499.00\"")
    ref, source = payload.get("ref"), payload.get("source")
    if not isinstance(ref, str) or not isinstance(source, str):
        raise InvalidRevenue("ref and source must be strings")
    # Absent means ZAR; present, it must say so (null, "" and "zar" do not).
    currency = payload.get("currency", CURRENCY)
    received_at = payload.get("received_at")
    if not isinstance(currency, str) or not (received_at is None or isinstance(received_at, str)):
        raise InvalidRevenue("currency and received_at must be strings")
    return RevenueEvent.checked(ref, source, amount, currency, received_at, max_cents)
