"""Revenue delivered by payment-provider webhooks: the body is JSON, signed
with HMAC-SHA256 of the raw body under a shared secret (hex in the
`X-Signature` header), as providers sign their callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json

from keeper.journal import InvalidRevenue, RevenueEvent

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
    fields = {key: payload.get(key) for key in ("ref", "source", "currency", "received_at")}
    if not all(value is None or isinstance(value, str) for value in fields.values()):
        raise InvalidRevenue("ref, source, currency and received_at must be strings")
    return RevenueEvent.checked(
        fields["ref"] or "", fields["source"] or "", amount, fields["currency"] or "ZAR", fields["received_at"]
    )
