"""The journal's schema, as numbered migrations applied in order at open
(`PRAGMA user_version` holds the last one applied).

Every event has a `state`: `backlog` (not in a batch), `pending` (in a batch
being sent), `confirmed` (on-chain), `quarantined` (the program refused it:
held out of batches until voided or requeued) or `voided` (never to be
pushed). Triggers keep `running_totals` (events and cents per source and
state) in step with every insert and state change, so totals cost one
small read whatever the journal's size (`COUNTED` says which rows).
Archiving deletes confirmed rows
and keeps their totals (`running_totals` counts every event ever journaled)
and their references (`archived_refs`: a re-delivered archived event is
still a duplicate)."""

from __future__ import annotations

import sqlite3

from keeper.money import PROGRAM_MAX_EVENT_CENTS

SOURCES = ("course_sale", "subscription", "other")
STATES = ("backlog", "pending", "confirmed", "quarantined", "voided")

_V1 = """
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

COUNTED = f"amount_cents <= {PROGRAM_MAX_EVENT_CENTS}"
"""Rows the running totals count: every row a keeper of schema 2 writes.
Older keepers journaled amounts up to SQLite's limit, and two of those in
one total would overflow it; the few such rows (`oversize`) are added up in
Python where they are read (`Journal.totals`), and are quarantined at their
first push."""

_V2 = f"""
ALTER TABLE revenue ADD COLUMN state TEXT NOT NULL DEFAULT 'backlog'
    CHECK (state IN ({", ".join(f"'{state}'" for state in STATES)}));
ALTER TABLE revenue ADD COLUMN recorded_at TEXT NOT NULL DEFAULT '';
ALTER TABLE revenue ADD COLUMN state_at TEXT NOT NULL DEFAULT '';
ALTER TABLE revenue ADD COLUMN note TEXT;
UPDATE revenue SET recorded_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'),
    state_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'),
    state = COALESCE((SELECT status FROM batches WHERE seq = revenue.batch_seq), 'backlog');
DROP INDEX revenue_unbatched;
CREATE INDEX revenue_by_state ON revenue (state, id);
CREATE INDEX revenue_by_batch ON revenue (batch_seq) WHERE batch_seq IS NOT NULL;
CREATE INDEX batches_pending ON batches (seq) WHERE status = 'pending';
ALTER TABLE batches ADD COLUMN confirmed_at TEXT;

CREATE TABLE running_totals (
    source TEXT NOT NULL,
    state TEXT NOT NULL,
    events INTEGER NOT NULL,
    cents INTEGER NOT NULL,
    PRIMARY KEY (source, state)
) WITHOUT ROWID;
INSERT INTO running_totals (source, state, events, cents)
    SELECT s.source, t.state,
        (SELECT COUNT(*) FROM revenue r WHERE r.source = s.source AND r.state = t.state AND {COUNTED}),
        (SELECT COALESCE(SUM(amount_cents), 0) FROM revenue r WHERE r.source = s.source AND r.state = t.state AND {COUNTED})
    FROM ({" UNION ALL ".join(f"SELECT '{source}' AS source" for source in SOURCES)}) s,
         ({" UNION ALL ".join(f"SELECT '{state}' AS state" for state in STATES)}) t;
CREATE INDEX revenue_oversize ON revenue (id) WHERE NOT ({COUNTED});
CREATE TRIGGER revenue_counted AFTER INSERT ON revenue WHEN {COUNTED.replace("amount_cents", "new.amount_cents")} BEGIN
    UPDATE running_totals SET events = events + 1, cents = cents + new.amount_cents
        WHERE source = new.source AND state = new.state;
END;
CREATE TRIGGER revenue_moved AFTER UPDATE OF state ON revenue
    WHEN old.state <> new.state AND {COUNTED.replace("amount_cents", "new.amount_cents")} BEGIN
    UPDATE running_totals SET events = events - 1, cents = cents - old.amount_cents
        WHERE source = old.source AND state = old.state;
    UPDATE running_totals SET events = events + 1, cents = cents + new.amount_cents
        WHERE source = new.source AND state = new.state;
END;

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    ref TEXT,
    detail TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX audit_by_ref ON audit (ref) WHERE ref IS NOT NULL;

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE archived_refs (
    ref TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE archives (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    events INTEGER NOT NULL,
    cents INTEGER NOT NULL,
    last_batch INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""

_V3 = """
ALTER TABLE batches ADD COLUMN root BLOB;
ALTER TABLE batches ADD COLUMN events INTEGER;
ALTER TABLE batches ADD COLUMN course_sale INTEGER;
ALTER TABLE batches ADD COLUMN subscription INTEGER;
ALTER TABLE batches ADD COLUMN other INTEGER;
ALTER TABLE revenue ADD COLUMN leaf INTEGER;
ALTER TABLE archived_refs ADD COLUMN batch_seq INTEGER;
ALTER TABLE archived_refs ADD COLUMN leaf INTEGER;
DROP INDEX revenue_by_batch;
CREATE INDEX revenue_by_leaf ON revenue (batch_seq, leaf) WHERE batch_seq IS NOT NULL;
CREATE TABLE batch_levels (
    batch_seq INTEGER NOT NULL REFERENCES batches (seq) ON DELETE CASCADE,
    level INTEGER NOT NULL,
    nodes BLOB NOT NULL,
    PRIMARY KEY (batch_seq, level)
);
"""
"""Schema 3: a batch is the root of a Merkle-sum tree (`keeper.revenue_tree`).
`batches.root` and the sums are what the program stored; `batch_levels`
holds every level of the tree (`revenue_tree.encode`, level 0 the leaves)
so a proof is read, not rebuilt, also for archived events; `leaf` is an
event's index in its batch. Batches of schema 2 were reported entry by entry and have no root."""

MIGRATIONS = (_V1, _V2, _V3)


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations `db` has not seen yet, each in one transaction
    (read under the write lock, so two processes opening at once apply each
    migration once)."""
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version >= len(MIGRATIONS):
                db.execute("COMMIT")
                return
            for statement in _statements(MIGRATIONS[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """`script` split into complete statements (a trigger body holds `;`s)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [statement for statement in statements if statement]
