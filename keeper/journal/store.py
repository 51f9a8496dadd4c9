"""The keeper's durable journal of revenue (SQLite, WAL): the source of truth
for revenue not yet reported on-chain, and the batches it was reported in.

A batch is written here, with its events and the Merkle-sum tree it
commits to (`keeper.revenue_tree`), before it is sent; it is marked
confirmed once the program holds its root. A crash at any point
leaves either backlog events (batched on the next run) or a pending batch
(re-sent with the same sequence number, or confirmed if it landed), so no
cent is lost or counted twice. An event the program refuses is quarantined:
held out of batches, with the reason, until an operator voids or requeues
it; each of those steps is written to the journal's own audit trail."""

from __future__ import annotations

import fcntl
import getpass
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from keeper import revenue_tree as tree
from keeper.journal.schema import COUNTED, SOURCES, migrate
from keeper.money import (
    CURRENCY,
    DEFAULT_MAX_EVENT_CENTS,
    PROGRAM_MAX_EVENT_CENTS,
    RECOVERED_PREFIX,
    InvalidRevenue,
    check_currency,
    check_received_at,
    check_reference,
    parse_amount,
)

MAX_BATCH_EVENTS = 100_000
"""Events per batch (one transaction whatever the number): building the tree
of a full batch takes about half a second and some 50 MB."""
I64_MAX = 2**63 - 1


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def age_secs(iso: str | None) -> float | None:
    """Seconds since `iso` (a time this journal wrote; UTC when it has no
    offset), None for None or text that is not a time."""
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (datetime.now(timezone.utc) - when).total_seconds()


class ConflictingDuplicate(Exception):
    """A reference already journaled with another source or amount."""

    def __init__(self, ref: str, source: str, amount_cents: int) -> None:
        super().__init__(f"reference {ref!r} was recorded as {source} {amount_cents} cents")
        self.ref, self.source, self.amount_cents = ref, source, amount_cents


class JournalUnavailable(Exception):
    """The journal file is gone (deleted or moved under a running keeper)
    or is not a journal SQLite can read."""


class BatchChanged(Exception):
    """A pending batch no longer holds the events it was sent with (the
    journal was restored under the sender)."""


class PushInProgress(Exception):
    """Another process is pushing from this journal."""


class _LeftBacklog(Exception):
    """An event read for a new batch left the backlog before it was written."""


class NotRepairable(Exception):
    """A void or requeue of an event not in a state that allows it."""


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
    ids: list[int]
    """Its events' ids, in leaf order."""
    total_cents: int
    root: tree.Node | None
    """The root of its tree; None for a batch of schema 2 (reported entry by
    entry, before batches had trees)."""


@dataclass(frozen=True)
class Adoption:
    """What recording a batch found only on-chain did (`Journal.adopt`)."""

    matched: list[str]
    """References the journal had, now confirmed in the batch."""
    chain_only: list[str]
    """`chain:SEQ:SOURCE` events standing for what only the chain has."""
    held: list[str]
    """Restored events quarantined: they may be on-chain already."""


@dataclass(frozen=True)
class HeldEvent:
    """A quarantined or voided event, as `revenue show --quarantined` lists it."""

    ref: str
    source: str
    amount_cents: int
    received_at: str
    state: str
    since: str
    reason: str


class Journal:
    def __init__(self, path: Path, busy_timeout_secs: float = 30.0) -> None:
        """`busy_timeout_secs`: how long a write waits for another process's
        write (the daemon waits briefly and answers 503 journal_busy)."""
        self.path = path
        self.busy_timeout_secs = busy_timeout_secs
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            # One thread at a time, not always the same one: the push job
            # moves its heavy calls off the event loop (the daemon gives it a
            # Journal of its own).
            db = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_secs, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            migrate(db)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise
            raise JournalUnavailable(f"cannot open the journal {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise JournalUnavailable(f"cannot open the journal {self.path}: {exc}") from exc
        stat = os.stat(self.path)
        self._identity = (stat.st_dev, stat.st_ino)
        return db

    @contextmanager
    def push_lock(self) -> Iterator[None]:
        """Held while one process pushes from this journal (an advisory lock
        on `<journal>.push.lock`); a second pusher gets `PushInProgress`."""
        with open(f"{self.path}.push.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise PushInProgress(f"another process is pushing from {self.path}") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        self.db.close()

    def current(self) -> sqlite3.Connection:
        """The connection to the file now at `path`: reopened when the file
        was replaced (a restore), `JournalUnavailable` when it is gone, so a
        running keeper never writes into a deleted file."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError as exc:
            raise JournalUnavailable(f"the journal {self.path} is gone: restore a backup (aistm7 journal restore)") from exc
        if (stat.st_dev, stat.st_ino) != self._identity:
            self.db.close()
            self.db = self._open()
        return self.db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception; the
        file is checked again once the lock is held (a restore may have
        swapped it while this waited)."""
        db = self.current()
        db.execute("BEGIN IMMEDIATE")
        try:
            fresh = self.current()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if fresh is not db:  # the old connection, and its transaction, were closed
            db = fresh
            db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @staticmethod
    def audit(db: sqlite3.Connection, action: str, ref: str | None, detail: str, actor: str = "keeper") -> None:
        db.execute(
            "INSERT INTO audit (at, action, ref, detail, actor) VALUES (?, ?, ?, ?, ?)",
            (now_iso(), action, ref, detail, actor),
        )

    def add(self, events: Iterable[RevenueEvent]) -> tuple[int, int]:
        """Record events, all or none; a reference already present with the
        same source and amount is a duplicate and changes nothing. Returns
        (added, duplicates). A reference present with another source or
        amount raises `ConflictingDuplicate` and records none of `events`."""
        added = duplicates = 0
        recorded = now_iso()
        with self._transaction() as db:
            for event in events:
                outcome = self._add_one(db, event, recorded)
                if isinstance(outcome, ConflictingDuplicate):
                    raise outcome
                added += outcome
                duplicates += not outcome
        return added, duplicates

    def add_each(self, events: Sequence[RevenueEvent]) -> list[bool | ConflictingDuplicate]:
        """Record events in one transaction, each on its own: per event, True
        (added), False (a duplicate) or the `ConflictingDuplicate` it is
        (recorded nothing); the others are recorded all the same."""
        recorded = now_iso()
        with self._transaction() as db:
            return [self._add_one(db, event, recorded) for event in events]

    @staticmethod
    def _add_one(db: sqlite3.Connection, event: RevenueEvent, recorded: str) -> bool | ConflictingDuplicate:
        archived = db.execute("SELECT source, amount_cents FROM archived_refs WHERE ref = ?", (event.ref,)).fetchone()
        if archived is None:
            cursor = db.execute(
                "INSERT INTO revenue (ref, source, amount_cents, received_at, recorded_at, state_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING",
                (event.ref, event.source, event.amount_cents, event.received_at, recorded, recorded),
            )
            if cursor.rowcount:
                return True
        source, cents = archived or db.execute("SELECT source, amount_cents FROM revenue WHERE ref = ?", (event.ref,)).fetchone()
        if (source, cents) != (event.source, event.amount_cents):
            return ConflictingDuplicate(event.ref, source, cents)
        return False

    def pending_batch(self) -> Batch | None:
        row = self.current().execute("SELECT seq FROM batches WHERE status = 'pending' ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else self._batch(row[0])

    def _batch(self, seq: int) -> Batch:
        status, total, root, *sums = self.db.execute(
            "SELECT status, total_cents, root, course_sale, subscription, other, events FROM batches WHERE seq = ?", (seq,)
        ).fetchone()
        ids = [row[0] for row in self.db.execute("SELECT id FROM revenue WHERE batch_seq = ? ORDER BY id", (seq,))]
        return Batch(seq, status, ids, total, None if root is None else tree.Node(root, tuple(sums)))

    def open_batch(self, seq: int, limit: int = MAX_BATCH_EVENTS) -> Batch | None:
        """Move up to `limit` backlog events into a new pending batch `seq`
        with its tree (None when there is nothing to push); a batch's total
        stays within SQLite's integers. An event the program would refuse
        (above its per-event maximum: it sees only the batch's sums, so the
        keeper applies the rule; or left by an older keeper with an amount
        no instruction can carry) is quarantined here. The tree is built
        outside the write lock; events voided meanwhile make it start over."""
        while True:
            rows = self.current().execute(
                "SELECT id, ref, source, amount_cents FROM revenue WHERE state = 'backlog' ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            taken: list[tuple[int, str, str, int]] = []
            refused: list[tuple[int, str, object]] = []
            total = 0
            for id_, ref, source, cents in rows:
                if not (isinstance(cents, int) and 0 < cents <= PROGRAM_MAX_EVENT_CENTS):
                    refused.append((id_, ref, cents))
                    continue
                if taken and total + cents > I64_MAX:
                    break
                taken.append((id_, ref, source, cents))
                total += cents
            if refused:
                self._refuse(refused)
            if not taken:
                return None
            built = tree.levels([tree.leaf(ref, source, cents) for _, ref, source, cents in taken])
            if self._write_batch(seq, taken, built):
                return self._batch(seq)

    def _refuse(self, refused: Sequence[tuple[int, str, object]]) -> None:
        reason = f"above the program's per-event maximum of {PROGRAM_MAX_EVENT_CENTS} cents: it cannot be reported"
        with self._transaction() as db:
            for id_, ref, cents in refused:
                if db.execute("SELECT 1 FROM revenue WHERE id = ? AND state = 'backlog'", (id_,)).fetchone():
                    self._hold(db, id_, ref, "quarantined", f"amount {cents!r} cents is {reason}", "keeper")

    def _write_batch(self, seq: int, taken: Sequence[tuple[int, str, str, int]], built: list[list[tree.Node]]) -> bool:
        """Write batch `seq` of `taken` with its tree; False (nothing written)
        when one of them left the backlog since it was read (a reference is
        journaled once, with one source and amount, so id and reference
        still matching means the event is the one the tree was built from)."""
        stamp = now_iso()
        try:
            with self._transaction() as db:
                self._insert_tree(db, seq, built, stamp)
                # By id and reference: a restore swapping the contents since
                # they were read gives other events those ids.
                moved = db.executemany(
                    "UPDATE revenue SET batch_seq = ?, state = 'pending', state_at = ?, leaf = ? "
                    "WHERE id = ? AND ref = ? AND state = 'backlog'",
                    [(seq, stamp, leaf, id_, ref) for leaf, (id_, ref, _, _) in enumerate(taken)],
                ).rowcount
                if moved != len(taken):
                    raise _LeftBacklog
        except _LeftBacklog:
            return False
        return True

    @staticmethod
    def _insert_tree(
        db: sqlite3.Connection,
        seq: int,
        built: list[list[tree.Node]],
        created_at: str,
        status: str = "pending",
        signature: str | None = None,
    ) -> None:
        root = built[-1][0]
        db.execute(
            "INSERT INTO batches (seq, status, total_cents, created_at, signature, confirmed_at, "
            "root, course_sale, subscription, other, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, status, sum(root.sums[:3]), created_at, signature, None if status == "pending" else now_iso(), root.hash, *root.sums),
        )
        db.executemany(
            "INSERT INTO batch_levels (batch_seq, level, nodes) VALUES (?, ?, ?)",
            [(seq, level, tree.encode(nodes)) for level, nodes in enumerate(built)],
        )

    def _check_pending(self, db: sqlite3.Connection, batch: Batch) -> None:
        ids = [row[0] for row in db.execute(
            "SELECT r.id FROM revenue r JOIN batches b ON b.seq = r.batch_seq "
            "WHERE r.batch_seq = ? AND b.status = 'pending' ORDER BY r.id",
            (batch.seq,),
        )]
        if ids != batch.ids:
            raise BatchChanged(f"pending batch {batch.seq} changed under its sender (the journal was restored)")

    def confirm(self, batch: Batch, signature: str | None = None) -> None:
        seq = batch.seq
        with self._transaction() as db:
            self._check_pending(db, batch)
            db.execute(
                "UPDATE batches SET status = 'confirmed', signature = COALESCE(?, signature), confirmed_at = ? "
                "WHERE seq = ? AND status = 'pending'",
                (signature, now_iso(), seq),
            )
            db.execute("UPDATE revenue SET state = 'confirmed', state_at = ? WHERE batch_seq = ?", (now_iso(), seq))

    def release(self, batch: Batch) -> None:
        """Undo a pending batch that did not land as it is (refused by the
        program, or another batch has its number on-chain): its events go
        back to the backlog, in their order, and its number is free."""
        seq = batch.seq
        with self._transaction() as db:
            self._check_pending(db, batch)
            db.execute(
                "UPDATE revenue SET batch_seq = NULL, leaf = NULL, state = 'backlog', state_at = ? WHERE batch_seq = ?",
                (now_iso(), seq),
            )
            db.execute("DELETE FROM batches WHERE seq = ? AND status = 'pending'", (seq,))

    def _hold(self, db: sqlite3.Connection, id_: int, ref: str, state: str, reason: str, actor: str) -> None:
        db.execute(
            "UPDATE revenue SET state = ?, batch_seq = NULL, leaf = NULL, note = ?, state_at = ? WHERE id = ?",
            (state, reason, now_iso(), id_),
        )
        self.audit(db, state, ref, reason, actor)

    def void(self, ref: str, reason: str, actor: str | None = None) -> None:
        """Never push `ref` (quarantined or still in the backlog)."""
        with self._transaction() as db:
            id_ = self._in_state(db, ref, ("quarantined", "backlog"), "void")
            self._hold(db, id_, ref, "voided", reason, actor or getpass.getuser())

    def requeue(self, ref: str, actor: str | None = None) -> None:
        """Put the quarantined `ref` back at the end of the backlog."""
        with self._transaction() as db:
            self._in_state(db, ref, ("quarantined",), "requeue")
            # A new id puts it behind the events that waited while it was held.
            next_id = db.execute("SELECT MAX(id) + 1 FROM revenue").fetchone()[0]
            db.execute(
                "UPDATE revenue SET id = ?, state = 'backlog', note = NULL, state_at = ? WHERE ref = ?",
                (next_id, now_iso(), ref),
            )
            self.audit(db, "requeued", ref, "back in the backlog", actor or getpass.getuser())

    @staticmethod
    def _in_state(db: sqlite3.Connection, ref: str, states: Sequence[str], verb: str) -> int:
        row = db.execute("SELECT id, state FROM revenue WHERE ref = ?", (ref,)).fetchone()
        if row is None:
            raise NotRepairable(f"no event {ref!r} in the journal")
        if row[1] not in states:
            raise NotRepairable(f"cannot {verb} {ref!r}: it is {row[1]} (only {' or '.join(states)})")
        return int(row[0])

    def adopt(self, seq: int, root: tree.Node, signature: str | None, when: str | None) -> Adoption:
        """Record batch `seq`, found on-chain (its root and sums) but not in
        this journal, as confirmed. Batches take backlog events in journal
        order, so what a batch carried from a restored backup
        (`mark_restored`) is that backup's first backlog events: when the
        first `events` of them give the chain's root, they are confirmed in
        it, with its tree. Otherwise the batch carried events this journal
        never saw: it is recorded with one `chain:SEQ:SOURCE` event per
        source (its sums as the chain has them, so totals agree), and the
        restored backlog is quarantined, since any of it may be on-chain
        already: the operator voids what the provider confirms was counted
        and requeues the rest. Nothing is pushed twice."""
        stamp = when or now_iso()
        with self._transaction() as db:
            bound = db.execute("SELECT value FROM meta WHERE key = 'restored_max_id'").fetchone()
            restored = db.execute(
                "SELECT id, ref, source, amount_cents FROM revenue WHERE state = 'backlog' AND id <= ? ORDER BY id LIMIT ?",
                (0 if bound is None else int(bound[0]), root.sums[3]),
            ).fetchall()
            if len(restored) == root.sums[3]:
                built = tree.levels([tree.leaf(ref, source, cents) for _, ref, source, cents in restored])
                if built[-1][0] == root:
                    self._insert_tree(db, seq, built, stamp, "confirmed", signature)
                    db.executemany(
                        "UPDATE revenue SET batch_seq = ?, state = 'confirmed', state_at = ?, leaf = ? WHERE id = ?",
                        [(seq, now_iso(), leaf, id_) for leaf, (id_, _, _, _) in enumerate(restored)],
                    )
                    for _, ref, _, _ in restored:
                        self.audit(db, "recovered", ref, f"on-chain in batch {seq} ({signature})")
                    return Adoption([ref for _, ref, _, _ in restored], [], [])
            db.execute(
                "INSERT INTO batches (seq, status, total_cents, created_at, signature, confirmed_at, "
                "root, course_sale, subscription, other, events) VALUES (?, 'confirmed', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, sum(root.sums[:3]), stamp, signature, now_iso(), root.hash, *root.sums),
            )
            chain_only = []
            for source, cents in zip(SOURCES, root.sums[:3]):
                if not cents:
                    continue
                ref = f"{RECOVERED_PREFIX}{seq}:{source}"
                db.execute(
                    "INSERT INTO revenue (ref, source, amount_cents, received_at, recorded_at, state_at, batch_seq, state, note) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'confirmed', ?)",
                    (ref, source, cents, stamp, now_iso(), now_iso(), seq, "only on-chain"),
                )
                self.audit(db, "chain_only", ref, f"{source} {cents} cents on-chain in batch {seq} ({signature}), in no journaled event")
                chain_only.append(ref)
            held = db.execute(
                "SELECT id, ref FROM revenue WHERE state = 'backlog' AND id <= ? ORDER BY id",
                (0 if bound is None else int(bound[0]),),
            ).fetchall()
            reason = f"may be on-chain in batch {seq}, whose events this journal cannot reproduce: void it if counted, else requeue"
            for id_, ref in held:
                self._hold(db, id_, ref, "quarantined", reason, "keeper")
        return Adoption([], chain_only, [ref for _, ref in held])

    def mark_restored(self) -> None:
        """Note that this file is a restored backup: only events it holds
        now can be matched to batches found on-chain (`adopt`); events
        journaled after the restore are new."""
        with self._transaction() as db:
            top = db.execute("SELECT COALESCE(MAX(id), 0) FROM revenue").fetchone()[0]
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('restored_max_id', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(top),),
            )
            self.audit(db, "restored", None, f"restored from a backup holding events up to id {top}", getpass.getuser())

    def held(self, state: str = "quarantined", limit: int = 1_000) -> list[HeldEvent]:
        """Quarantined (or voided) events, oldest first."""
        rows = self.current().execute(
            "SELECT ref, source, amount_cents, received_at, state, state_at, COALESCE(note, '') FROM revenue "
            "WHERE state = ? ORDER BY id LIMIT ?",
            (state, limit),
        ).fetchall()
        return [HeldEvent(*row) for row in rows]

    def audit_trail(self, ref: str | None = None, limit: int = 1_000) -> list[dict[str, str | None]]:
        where, args = ("WHERE ref = ?", (ref, limit)) if ref is not None else ("", (limit,))
        rows = self.current().execute(
            f"SELECT at, action, ref, detail, actor FROM audit {where} ORDER BY id DESC LIMIT ?", args
        ).fetchall()
        return [dict(zip(("at", "action", "ref", "detail", "actor"), row)) for row in reversed(rows)]

    def last_confirmed_seq(self) -> int:
        row = self.current().execute("SELECT MAX(seq) FROM batches WHERE status = 'confirmed'").fetchone()
        return int(row[0] or 0)

    def totals(self) -> dict[str, int]:
        """Cents per source and in total (voided events excluded), what is
        confirmed on-chain, the backlog and what is held: the running totals
        (15 rows) plus the rare rows too large for them (an index probe)."""
        out = {"total": 0, "confirmed": 0, "backlog_events": 0, "backlog": 0, "pending": 0}
        out |= {"quarantined_events": 0, "quarantined": 0, "voided_events": 0, "voided": 0}
        for source in SOURCES:
            out[source] = 0
        db = self.current()
        counted = db.execute("SELECT source, state, events, cents FROM running_totals").fetchall()
        oversize = db.execute(
            f"SELECT source, state, 1, amount_cents FROM revenue WHERE NOT ({COUNTED})"
        ).fetchall()
        for source, state, events, cents in counted + oversize:
            if state == "voided":
                out["voided_events"] += events
                out["voided"] += cents
                continue
            out[source] += cents
            out["total"] += cents
            out[state] += cents
            if state in ("backlog", "quarantined"):
                out[f"{state}_events"] += events
        return out

    def oldest_quarantined(self) -> str | None:
        """When the longest-held quarantined event was quarantined."""
        row = self.current().execute("SELECT MIN(state_at) FROM revenue WHERE state = 'quarantined'").fetchone()
        return None if row is None else row[0]

    def oldest_backlog_recorded(self) -> str | None:
        """When the oldest backlog event was journaled (the first backlog
        row by id: one index probe)."""
        row = self.current().execute(
            "SELECT recorded_at FROM revenue WHERE state = 'backlog' ORDER BY id LIMIT 1"
        ).fetchone()
        return None if row is None else row[0]

    def pending_since(self) -> str | None:
        row = self.current().execute(
            "SELECT created_at FROM batches WHERE status = 'pending' ORDER BY seq LIMIT 1"
        ).fetchone()
        return None if row is None else row[0]
