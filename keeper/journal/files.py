"""The journal's files: archives of confirmed events, backups, restore, and
the checks `aistm7 journal verify` runs on them.

- An archive is JSON Lines (one confirmed event a line, with its batch and
  signature) beside a `sha256sum`-format checksum file; the journal keeps
  the archive's checksum, counts and its events' references.
- A backup is made with SQLite's online backup API, so it is consistent
  while the keeper writes, and is a single self-contained file (rollback
  journal mode) with a checksum file beside it.
- A restore checks the backup (integrity, checksum), keeps the journal it
  replaces as `<journal>.before-restore-<time>`, and swaps the backup in
  with one rename; a running keeper notices the new file on its next use
  and reconciles it with the chain."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from keeper.journal.schema import COUNTED, MIGRATIONS
from keeper.journal.store import Journal, now_iso

_CHUNK = 1 << 20


class JournalFileError(Exception):
    """A backup, archive or restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class Archived:
    path: Path
    sha256: str
    events: int
    cents: int
    last_batch: int


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_checksum(path: Path) -> str:
    digest = sha256_of(path)
    Path(f"{path}.sha256").write_text(f"{digest}  {path.name}\n")
    return digest


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive(journal: Journal, before: datetime, destination: Path | None = None) -> Archived | None:
    """Move the events of batches confirmed before `before` to an archive
    file (None when there are none). Their totals and references stay."""
    db = journal.current()
    cutoff = before.astimezone(timezone.utc).isoformat(timespec="microseconds")
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute(
            "SELECT r.ref, r.source, r.amount_cents, r.received_at, r.batch_seq, b.signature FROM revenue r "
            "JOIN batches b ON b.seq = r.batch_seq WHERE r.state = 'confirmed' "
            "AND COALESCE(b.confirmed_at, b.created_at) < ? ORDER BY r.id",
            (cutoff,),
        ).fetchall()
        if not rows:
            db.execute("ROLLBACK")
            return None
        last_batch = max(row[4] for row in rows)
        path = destination or journal.path.parent / "archive" / f"revenue-{rows[0][4]}-{last_batch}.jsonl"
        if path.exists():
            raise JournalFileError(f"{path} exists: name another --to")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("w") as handle:
            for ref, source, cents, received_at, seq, signature in rows:
                line = {"ref": ref, "source": source, "amount_cents": cents, "received_at": received_at, "batch": seq, "signature": signature}
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        partial.rename(path)
        digest = _write_checksum(path)
        cents = sum(row[2] for row in rows)
        db.execute(
            "INSERT INTO archives (path, sha256, events, cents, last_batch, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (str(path.resolve()), digest, len(rows), cents, last_batch, now_iso()),
        )
        db.executemany(
            "INSERT INTO archived_refs (ref, source, amount_cents) VALUES (?, ?, ?)", [row[:3] for row in rows]
        )
        db.executemany("DELETE FROM revenue WHERE ref = ?", [(row[0],) for row in rows])
        journal.audit(db, "archived", None, f"{len(rows)} events, {cents} cents, batches up to {last_batch} -> {path}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return Archived(path, digest, len(rows), cents, last_batch)


def backup(source: Path, destination: Path) -> str:
    """A consistent copy of the journal at `source` (safe while a keeper
    writes to it) at `destination`; returns its SHA-256."""
    if destination.exists():
        raise JournalFileError(f"{destination} exists: back up to a new name")
    if not source.exists():
        raise JournalFileError(f"no journal at {source}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        copy.close()
        live.close()
    _fsync(partial)
    partial.rename(destination)
    return _write_checksum(destination)


def _check_backup(source: Path) -> None:
    if not source.is_file():
        raise JournalFileError(f"no backup at {source}")
    sidecar = Path(f"{source}.sha256")
    if sidecar.exists():
        parts = sidecar.read_text().split()
        expected = parts[0] if parts else ""
        if sha256_of(source) != expected:
            raise JournalFileError(f"{source} does not match its checksum {sidecar}")
    try:
        db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute("SELECT COUNT(*) FROM revenue").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise JournalFileError(f"{source} is not a journal: {exc}") from exc
    if result != "ok":
        raise JournalFileError(f"{source} fails SQLite's integrity check: {result}")
    if version > len(MIGRATIONS):
        raise JournalFileError(f"{source} was written by a newer keeper (schema {version})")


def restore(source: Path, journal_path: Path) -> Path | None:
    """Put the backup `source` in place of the journal at `journal_path`;
    returns where the replaced journal was kept (None when there was none)."""
    _check_backup(source)
    staged = journal_path.with_name(journal_path.name + ".restoring")
    for leftover in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
        leftover.unlink(missing_ok=True)
    copy = sqlite3.connect(staged)
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        live.backup(copy)
    finally:
        live.close()
        copy.close()
    restored = Journal(staged)
    try:
        restored.mark_restored()
        restored.db.execute("PRAGMA journal_mode=DELETE")
    finally:
        restored.close()
    _fsync(staged)
    kept = None
    if journal_path.exists():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = journal_path.with_name(f"{journal_path.name}.before-restore-{stamp}")
        try:
            backup(journal_path, kept)
        except sqlite3.DatabaseError:
            # Too damaged to copy: kept as it is, with its WAL and index.
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{journal_path}{suffix}").exists():
                    Path(f"{journal_path}{suffix}").rename(f"{kept}{suffix}")
    # The replaced journal's WAL and index must not be read as the new file's.
    for stale in (Path(f"{journal_path}-wal"), Path(f"{journal_path}-shm")):
        stale.unlink(missing_ok=True)
    staged.rename(journal_path)
    return kept


def verify_files(journal: Journal) -> list[Check]:
    """The journal's own consistency: SQLite integrity, running totals
    against its rows and archives, batch totals, archive checksums."""
    db = journal.current()
    checks = []
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    checks.append(Check("sqlite-integrity", integrity == "ok", integrity))
    counted = {(s, t): (e, c) for s, t, e, c in db.execute("SELECT source, state, events, cents FROM running_totals")}
    live = {
        (s, t): (e, c)
        for s, t, e, c in db.execute(f"SELECT source, state, COUNT(*), SUM(amount_cents) FROM revenue WHERE {COUNTED} GROUP BY source, state")
    }
    archived_events, archived_cents = db.execute("SELECT COALESCE(SUM(events), 0), COALESCE(SUM(cents), 0) FROM archives").fetchone()
    drift = []
    for key, (events, cents) in counted.items():
        have_events, have_cents = live.get(key, (0, 0))
        if key[1] == "confirmed":
            continue
        if (events, cents) != (have_events, have_cents):
            drift.append(f"{key[0]}/{key[1]}: totals say {events} events {cents} cents, rows hold {have_events} / {have_cents}")
    confirmed = [sum(v[i] for k, v in counted.items() if k[1] == "confirmed") for i in (0, 1)]
    live_confirmed = [sum(v[i] for k, v in live.items() if k[1] == "confirmed") for i in (0, 1)]
    if confirmed != [live_confirmed[0] + archived_events, live_confirmed[1] + archived_cents]:
        drift.append(
            f"confirmed: totals say {confirmed[0]} events {confirmed[1]} cents, rows and archives hold "
            f"{live_confirmed[0] + archived_events} / {live_confirmed[1] + archived_cents}"
        )
    checks.append(Check("running-totals", not drift, "; ".join(drift) or "match the rows and archives"))
    archived_upto = db.execute("SELECT COALESCE(MAX(last_batch), 0) FROM archives").fetchone()[0]
    mismatched = db.execute(
        "SELECT b.seq FROM batches b LEFT JOIN revenue r ON r.batch_seq = b.seq WHERE b.seq > ? "
        "GROUP BY b.seq HAVING b.total_cents <> COALESCE(SUM(r.amount_cents), 0) LIMIT 10",
        (archived_upto,),
    ).fetchall()
    checks.append(Check(
        "batch-totals", not mismatched,
        f"batches {[row[0] for row in mismatched]} differ from their events" if mismatched else "every batch adds up",
    ))
    for path, digest, events, cents in db.execute("SELECT path, sha256, events, cents FROM archives ORDER BY id").fetchall():
        name = f"archive {Path(path).name}"
        if not Path(path).exists():
            checks.append(Check(name, False, f"{path} is missing"))
            continue
        actual = sha256_of(Path(path))
        lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
        counts = (len(lines), sum(line["amount_cents"] for line in lines))
        ok = actual == digest and counts == (events, cents)
        checks.append(Check(name, ok, f"sha256 {actual[:16]}…, {counts[0]} events, {counts[1]} cents" + ("" if ok else f" (journal says {digest[:16]}…, {events}, {cents})")))
    return checks
