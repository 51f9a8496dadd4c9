"""The gateway's event types and how the program's own events (read from
transaction logs) become them. An event's id is stable wherever it is
read: `<signature>:<index>` for a program event (`:alert` appended for the
price alert it raised), `charge:<id>:failed` for a charge the program refused."""

from __future__ import annotations

import json
from typing import Any, get_args

from keeper.audit.history import HistoryEvent
from keeper.gateway.models import EventType
from keeper.gateway.store import EventRecord, EventRow

TYPES: tuple[str, ...] = get_args(EventType)
FROM_PROGRAM = {
    "RequirementUpdated": "requirement.updated",
    "RequirementOverrideSet": "requirement.updated",
    "TokensLocked": "access.changed",
    "UnlockRequested": "access.changed",
    "TokensUnlocked": "access.changed",
    "FeePaid": "charge.succeeded",
    "BuyOrderOpened": "buy_order.opened",
    "BuyOrderFilled": "buy_order.filled",
    "BuyOrderClosed": "buy_order.closed",
    "RevenueReported": "revenue.batch_committed",
}
DEFAULT_ALERT_BPS = 500


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def moved_bps(old: tuple[int, int], new: tuple[int, int]) -> int:
    """|new - old| / old in basis points, rounded down, for (price, expo) pairs."""
    (old_price, old_expo), (new_price, new_expo) = old, new
    expo = min(old_expo, new_expo)
    a = old_price * 10 ** (old_expo - expo)
    b = new_price * 10 ** (new_expo - expo)
    return 0 if a <= 0 else abs(b - a) * 10_000 // a


class Translator:
    """Program events to gateway events; remembers the last price it saw to
    raise `alert.price_moved` when the requirement's price moved at least
    `alert_bps` since."""

    def __init__(self, alert_bps: int, last_price: tuple[int, int] | None) -> None:
        self.alert_bps = alert_bps
        self.last_price = last_price

    def records(self, event: HistoryEvent, merchant: str | None) -> list[EventRecord]:
        """The gateway events of one program event (`merchant`: whose charge
        a FeePaid settles, when a gateway charge did)."""
        kind = FROM_PROGRAM.get(event.name)
        if kind is None or (event.name == "FeePaid" and merchant is None):
            # A fee no merchant's gateway charge explains (a user paying
            # directly, another deployment's collector) is nobody's charge.succeeded.
            return []
        event_id = f"{event.signature}:{event.index}"
        data = {"event": event.name, **event.data}
        found = [EventRecord(event_id, kind, merchant, event.slot, event.signature, event.block_time, dumps(data))]
        if event.name == "RequirementUpdated":
            price = (int(event.data["price"]), int(event.data["expo"]))
            if self.last_price is not None and moved_bps(self.last_price, price) >= self.alert_bps:
                alert = {
                    "old_price": self.last_price[0], "old_expo": self.last_price[1], "price": price[0], "expo": price[1],
                    "moved_bps": moved_bps(self.last_price, price), "threshold_bps": self.alert_bps,
                    "publish_time": event.data["publish_time"],
                }
                found.append(
                    EventRecord(f"{event_id}:alert", "alert.price_moved", None, event.slot, event.signature, event.block_time, dumps(alert))
                )
            self.last_price = price
        return found


PRICED = dumps({"event": "RequirementUpdated"})[1:-1]
"""What the data of a `requirement.updated` that a price set contains."""


def last_price(row: EventRow | None) -> tuple[int, int] | None:
    """The price of a recorded `requirement.updated` a price set."""
    if row is None:
        return None
    data = json.loads(row.data)
    return (int(data["price"]), int(data["expo"]))


def body(row: EventRow) -> dict[str, Any]:
    """An event as webhooks and the stream carry it."""
    return {
        "id": row.event_id,
        "seq": row.seq,
        "type": row.type,
        "created_ms": row.created_ms,
        "slot": row.slot,
        "signature": row.signature,
        "block_time": row.block_time,
        "data": json.loads(row.data),
    }
