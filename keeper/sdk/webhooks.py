"""Checking a webhook delivery from the gateway: the `X-Signature` header
signs `<t>.<raw body>` with the endpoint's secret (see keeper.webhook)."""

from __future__ import annotations

import json
import time

from keeper.gateway import models
from keeper.webhook import DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER, Refused, verify

__all__ = ["SIGNATURE_HEADER", "verify_webhook"]


def verify_webhook(secret: str, body: bytes, header: str | None, tolerance_secs: int = DEFAULT_TOLERANCE_SECS) -> models.Event:
    """The delivered event, when `header` signs the raw `body` under
    `secret` within `tolerance_secs` of now; ValueError otherwise."""
    try:
        verify(secret.encode(), body, header, time.time(), tolerance_secs)
    except Refused as refused:
        raise ValueError(f"{refused.code}: {refused.message}") from None
    return models.Event.model_validate(json.loads(body))
