"""The keeper's durable journal of revenue (SQLite, WAL): the source of truth
for revenue not yet reported on-chain, and the batches it was reported in.

A batch is written here, with its events, before it is sent; it is marked
confirmed once the program's `last_batch_seq` shows it. A crash at any point
leaves either unassigned events (batched on the next run) or a pending batch
(re-sent with the same sequence number, or confirmed if it landed), so no
cent is lost or counted twice."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from keeper.money import (
    CURRENCY,
    DEFAULT_MAX_EVENT_CENTS,
    InvalidRevenue,
    check_currency,
    check_received_at,
    check_reference,
    parse_amount,
)

SOURCES = ("course_sale", "subscription", "other")
MAX_BATCH_ENTRIES = 32

SCHEMA = """
CREATE TABLE IF NOT EXISTS revenue (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL CHECK (source IN ('course_sale', 'subscription', 'other')),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    received_at TEXT NOT NULL,
    batch_seq INTEGER REFERENCES batches (seq)
);
CREATE INDEX IF NOT EXISTS revenue_unbatched ON revenue (batch_seq) WHERE batch_seq IS NULL;
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    total_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    signature TEXT
);
"""


class ConflictingDuplicate(Exception):
    """A reference already journaled with another source or amount."""

    def __init__(self, ref: str, source: str, amount_cents: int) -> None:
        super().__init__(f"reference {ref!r} was recorded as {source} {amount_cents} cents")
        self.ref, self.source, self.amount_cents = ref, source, amount_cents


@dataclass(frozen=True)
class RevenueEvent:
    ref: str
    source: str
    amount_cents: int
    received_at: str

    @classmethod
    def checked(
        cls,
        ref: str,
        source: str,
        amount: str,
        currency: str = CURRENCY,
        received_at: str | None = None,
        max_cents: int = DEFAULT_MAX_EVENT_CENTS,
    ) -> RevenueEvent:
        """An event from untrusted input, by the rules of `keeper.money`."""
        if source not in SOURCES:
            raise InvalidRevenue(f"unknown source {source[:32]!r}: one of {', '.join(SOURCES)}")
        check_currency(currency)
        return cls(check_reference(ref), source, parse_amount(amount, max_cents), check_received_at(received_at))


@dataclass(frozen=True)
class Batch:
    seq: int
    status: str
    entries: list[tuple[str, int]]
    """(source, cents) in journal order."""

    @property
    def total_cents(self) -> int:
        return sum(cents for _, cents in self.entries)


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add(self, events: Iterable[RevenueEvent]) -> tuple[int, int]:
        """Record events; a reference already present with the same source
        and amount is a duplicate and changes nothing. Returns (added,
        duplicates). A reference present with another source or amount
        raises `ConflictingDuplicate` and records none of `events`."""
        added = duplicates = 0
        with self._transaction() as db:
            for event in events:
                cursor = db.execute(
                    "INSERT INTO revenue (ref, source, amount_cents, received_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (ref) DO NOTHING",
                    (event.ref, event.source, event.amount_cents, event.received_at),
                )
                if cursor.rowcount:
                    added += 1
                    continue
                source, cents = db.execute(
                    "SELECT source, amount_cents FROM revenue WHERE ref = ?", (event.ref,)
                ).fetchone()
                if (source, cents) != (event.source, event.amount_cents):
                    raise ConflictingDuplicate(event.ref, source, cents)
                duplicates += 1
        return added, duplicates

    def pending_batch(self) -> Batch | None:
        row = self.db.execute("SELECT seq FROM batches WHERE status = 'pending' ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else self._batch(row[0])

    def _batch(self, seq: int) -> Batch:
        status = self.db.execute("SELECT status FROM batches WHERE seq = ?", (seq,)).fetchone()[0]
        entries = self.db.execute(
            "SELECT source, amount_cents FROM revenue WHERE batch_seq = ? ORDER BY id", (seq,)
        ).fetchall()
        return Batch(seq, status, [(source, cents) for source, cents in entries])

    def open_batch(self, seq: int, limit: int = MAX_BATCH_ENTRIES) -> Batch | None:
        """Assign up to `limit` unbatched events to a new pending batch `seq`
        (None when there is nothing to push)."""
        with self._transaction() as db:
            ids = [row[0] for row in db.execute(
                "SELECT id FROM revenue WHERE batch_seq IS NULL ORDER BY id LIMIT ?", (limit,)
            )]
            if not ids:
                return None
            total = db.execute(
                f"SELECT SUM(amount_cents) FROM revenue WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchone()[0]
            db.execute(
                "INSERT INTO batches (seq, status, total_cents, created_at) VALUES (?, 'pending', ?, ?)",
                (seq, total, datetime.now(timezone.utc).isoformat()),
            )
            db.execute(f"UPDATE revenue SET batch_seq = ? WHERE id IN ({','.join('?' * len(ids))})", [seq, *ids])
        return self._batch(seq)

    def confirm(self, seq: int, signature: str | None = None) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE batches SET status = 'confirmed', signature = COALESCE(?, signature) WHERE seq = ?",
                (signature, seq),
            )

    def last_confirmed_seq(self) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM batches WHERE status = 'confirmed'").fetchone()
        return int(row[0] or 0)

    def totals(self) -> dict[str, int]:
        """Cents per source and in total: everything, and what is confirmed on-chain."""
        out = {"total": 0, "confirmed": 0, "backlog_events": 0}
        for source in SOURCES:
            out[source] = 0
        for source, cents, batch, status in self.db.execute(
            "SELECT r.source, r.amount_cents, r.batch_seq, b.status FROM revenue r LEFT JOIN batches b ON b.seq = r.batch_seq"
        ):
            out[source] += cents
            out["total"] += cents
            if status == "confirmed":
                out["confirmed"] += cents
            if batch is None:
                out["backlog_events"] += 1
        return out
