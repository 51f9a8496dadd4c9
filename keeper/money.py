"""One grammar for revenue input, wherever it comes from (webhook, CLI,
CSV import): amounts, currency, references and receipt times.

An amount is ASCII decimal ZAR with at most two decimals ("1499.00", "15"):
no exponent, sign, separator, whitespace or non-ASCII digit, above zero and at
most a per-event maximum. The currency is exactly "ZAR". A reference is 1 to
128 characters without control, format or line-separator characters (they
would forge log lines), and without surrounding whitespace; `chain:` starts
only the references of entries recovered from the chain."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

CURRENCY = "ZAR"
# The program's MAX_REVENUE_ENTRY_CENTS: no entry above it is accepted on-chain.
PROGRAM_MAX_EVENT_CENTS = 10_000_000 * 100
# The default ceiling of one event (configurable, never above the program's).
DEFAULT_MAX_EVENT_CENTS = PROGRAM_MAX_EVENT_CENTS
MAX_REF_CHARS = 128
# The journal names entries it found only on-chain `chain:SEQ:INDEX`.
RECOVERED_PREFIX = "chain:"
# Receipt times may run this far ahead of this machine's clock.
CLOCK_SKEW = timedelta(minutes=5)

_AMOUNT = re.compile(r"(?P<whole>[0-9]{1,40})(?:\.(?P<cents>[0-9]{1,2}))?")
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


class InvalidRevenue(ValueError):
    """Input that must not enter the journal; the message says why."""


def parse_amount(text: str, max_cents: int = DEFAULT_MAX_EVENT_CENTS) -> int:
    """`text` in cents, or `InvalidRevenue` naming the rule it breaks."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise InvalidRevenue(
            f"amount {text[:40]!r} is not an ASCII decimal with at most two decimals, e.g. \"1499.00\""
        )
    cents = int(match["whole"]) * 100 + int((match["cents"] or "0").ljust(2, "0"))
    if cents <= 0:
        raise InvalidRevenue(f"amount {text!r} must be above zero")
    if cents > max_cents:
        raise InvalidRevenue(f"amount {text!r} is above the per-event maximum of {max_cents // 100} {CURRENCY}")
    return cents


def max_event_cents(zar: str) -> int:
    """A configured per-event maximum (whole or decimal ZAR) in cents, at
    most the program's own."""
    return parse_amount(zar, PROGRAM_MAX_EVENT_CENTS)


def check_currency(currency: str) -> str:
    if currency != CURRENCY:
        raise InvalidRevenue(f"currency {currency[:16]!r} is not accepted: revenue is in {CURRENCY}")
    return currency


def check_reference(ref: str) -> str:
    if not 1 <= len(ref) <= MAX_REF_CHARS:
        raise InvalidRevenue(f"a reference of 1 to {MAX_REF_CHARS} characters is required")
    if ref.startswith(RECOVERED_PREFIX):
        raise InvalidRevenue(f"references starting {RECOVERED_PREFIX!r} are reserved for entries recovered from the chain")
    if ref != ref.strip():
        raise InvalidRevenue(f"reference {ref!r} has surrounding whitespace")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in ref):
        raise InvalidRevenue(f"reference {ref!r} holds control or format characters")
    return ref


def check_received_at(text: str | None, now: datetime | None = None) -> str:
    """An ISO 8601 time with its offset, not in the future; now when absent."""
    now = now or datetime.now(timezone.utc)
    if text is None:
        return now.isoformat()
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRevenue(f"received_at {text[:40]!r} is not an ISO 8601 time") from exc
    if when.tzinfo is None:
        raise InvalidRevenue(f"received_at {text!r} has no UTC offset")
    if when > now + CLOCK_SKEW:
        raise InvalidRevenue(f"received_at {text!r} is in the future")
    return when.isoformat()
