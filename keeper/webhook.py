"""Revenue delivered by payment-provider webhooks: the body is JSON, signed
with HMAC-SHA256 of the raw body under a shared secret (hex in the
`X-Signature` header), as providers sign their callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json

from keeper.journal import RevenueEvent
from keeper.money import CURRENCY, InvalidRevenue

SIGNATURE_HEADER = "X-Signature"
MAX_BODY_BYTES = 64 * 1024


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verified(secret: bytes, body: bytes, signature: str | None) -> bool:
    """Constant-time comparison of the signature with the body's HMAC."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature.strip().lower())


def parse_event(body: bytes) -> RevenueEvent:
    """`{"ref", "source", "amount", "currency"?, "received_at"?}`; `amount` is
    a decimal string of ZAR (a JSON number would invite float rounding)."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRevenue(f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidRevenue("body must be a JSON object")
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
    return RevenueEvent.checked(ref, source, amount, currency, received_at)
