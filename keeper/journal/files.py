"""The journal's files: archives of confirmed events, backups, restore, and
the checks `aistm7 journal verify` runs on them.

- An archive is JSON Lines (one confirmed event a line, with its batch, its
  leaf index in the batch's tree and the batch's signature) beside a `sha256sum`-format checksum file; the journal keeps
  the archive's checksum, counts and its events' references.
- A backup is made with SQLite's online backup API, so it is consistent
  while the keeper writes, and is a single self-contained file (rollback
  journal mode) with a checksum file beside it.
- A restore checks the backup (integrity, checksum, schema) and keeps the
  journal it replaces as `<journal>.before-restore-<time>`. A readable
  journal takes the backup's contents in one transaction (a running keeper
  sees one or the other); a missing or unreadable one is replaced by the
  backup's file. The keeper reconciles the result with the chain."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from keeper.journal.schema import COUNTED, MIGRATIONS
from keeper.journal.store import Journal, JournalUnavailable, now_iso

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


ARCHIVE_CHUNK_EVENTS = 200_000
"""Events per archive file and per transaction (whole batches: at least
one, then more while they fit), so the write lock is held for a second or
two at a time."""


def archive(journal: Journal, before: datetime, directory: Path | None = None) -> list[Archived]:
    """Move the events of batches confirmed before `before` to archive files
    in `directory` (default: `archive/` beside the journal), oldest batches
    first, one file per `ARCHIVE_CHUNK_EVENTS`. Totals and references stay."""
    cutoff = before.astimezone(timezone.utc).isoformat(timespec="microseconds")
    folder = directory or journal.path.parent / "archive"
    done = []
    while (chunk := _archive_chunk(journal, cutoff, folder)) is not None:
        done.append(chunk)
    return done


def _archive_chunk(journal: Journal, cutoff: str, folder: Path) -> Archived | None:
    db = journal.current()
    db.execute("BEGIN IMMEDIATE")
    try:
        # Archives go in batch order: every batch up to the last archived one is done.
        after = db.execute("SELECT COALESCE(MAX(last_batch), 0) FROM archives").fetchone()[0]
        seqs: list[int] = []
        events = 0
        for seq, count in db.execute(
            "SELECT seq, COALESCE(events, (SELECT COUNT(*) FROM revenue WHERE batch_seq = seq)) FROM batches "
            "WHERE seq > ? AND status = 'confirmed' AND COALESCE(confirmed_at, created_at) < ? ORDER BY seq",
            (after, cutoff),
        ):
            if seqs and events + count > ARCHIVE_CHUNK_EVENTS:
                break
            seqs.append(seq)
            events += count
        rows = [] if not seqs else db.execute(
            "SELECT r.ref, r.source, r.amount_cents, r.received_at, r.batch_seq, b.signature, r.leaf FROM revenue r "
            "JOIN batches b ON b.seq = r.batch_seq WHERE r.batch_seq BETWEEN ? AND ? AND r.state = 'confirmed' "
            "ORDER BY r.batch_seq, r.id",
            (seqs[0], seqs[-1]),
        ).fetchall()
        if not rows:
            db.execute("ROLLBACK")
            return None
        path = folder / f"revenue-{seqs[0]}-{seqs[-1]}.jsonl"
        if path.exists():
            raise JournalFileError(f"{path} exists: archive into another --dir")
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("w") as handle:
            for ref, source, cents, received_at, seq, signature, leaf in rows:
                line = {
                    "ref": ref, "source": source, "amount_cents": cents, "received_at": received_at,
                    "batch": seq, "leaf": leaf, "signature": signature,
                }
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        partial.rename(path)
        digest = _write_checksum(path)
        cents = sum(row[2] for row in rows)
        db.execute(
            "INSERT INTO archives (path, sha256, events, cents, last_batch, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (str(path.resolve()), digest, len(rows), cents, seqs[-1], now_iso()),
        )
        db.executemany(
            "INSERT INTO archived_refs (ref, source, amount_cents, batch_seq, leaf) VALUES (?, ?, ?, ?, ?)",
            [(*row[:3], row[4], row[6]) for row in rows],
        )
        db.executemany("DELETE FROM revenue WHERE ref = ?", [(row[0],) for row in rows])
        journal.audit(db, "archived", None, f"{len(rows)} events, {cents} cents, batches {seqs[0]}..{seqs[-1]} -> {path}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return Archived(path, digest, len(rows), cents, seqs[-1])


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
            # The columns every schema has: anything else is some other database.
            db.execute("SELECT id, ref, source, amount_cents, received_at, batch_seq FROM revenue LIMIT 1").fetchall()
            db.execute("SELECT seq, status, total_cents, created_at, signature FROM batches LIMIT 1").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise JournalFileError(f"{source} is not a journal: {exc}") from exc
    if result != "ok":
        raise JournalFileError(f"{source} fails SQLite's integrity check: {result}")
    if not 1 <= version <= len(MIGRATIONS):
        raise JournalFileError(f"{source} has schema {version}: this keeper reads 1 to {len(MIGRATIONS)}")


def _stage(source: Path, staged: Path) -> None:
    """The backup, migrated and marked restored, at `staged` (one file)."""
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


# Children after parents for inserts (revenue references batches); deletes go in reverse.
_TABLES = ("batches", "batch_levels", "revenue", "running_totals", "audit", "archives", "archived_refs", "meta")


def _replace_contents(staged: Path, journal_path: Path, kept: Path) -> bool:
    """Swap the readable journal's contents for the staged backup's in one
    transaction, keeping a copy of what it held at that moment: a running
    keeper sees the old journal or the new one, and nothing it acknowledged
    is in neither. False when the journal cannot be read (then its file is
    replaced instead)."""
    try:
        live = Journal(journal_path)
    except JournalUnavailable:
        return False
    db = live.db
    try:
        return _swap_contents(db, staged, journal_path, kept)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise
        return False
    except sqlite3.DatabaseError:  # opens, but its pages are damaged
        return False
    finally:
        live.close()


def _swap_contents(db: sqlite3.Connection, staged: Path, journal_path: Path, kept: Path) -> bool:
    try:
        db.execute("ATTACH DATABASE ? AS restored", (str(staged),))
        db.execute("BEGIN IMMEDIATE")
        try:
            backup(journal_path, kept)
            for table in reversed(_TABLES):
                db.execute(f"DELETE FROM main.{table}")
            for table in _TABLES:
                # running_totals is empty while revenue is copied: its triggers change nothing.
                db.execute(f"INSERT INTO main.{table} SELECT * FROM restored.{table}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.execute("DETACH DATABASE restored")
    return True


def restore(source: Path, journal_path: Path) -> Path | None:
    """Put the backup `source` in place of the journal at `journal_path`;
    returns where the replaced journal was kept (None when there was none)."""
    _check_backup(source)
    staged = journal_path.with_name(journal_path.name + ".restoring")
    try:
        _stage(source, staged)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        kept = journal_path.with_name(f"{journal_path.name}.before-restore-{stamp}")
        if not journal_path.exists():
            # A deleted journal's WAL and index must not be read as the new file's.
            for stale in (Path(f"{journal_path}-wal"), Path(f"{journal_path}-shm")):
                stale.unlink(missing_ok=True)
            staged.rename(journal_path)
            return None
        if not _replace_contents(staged, journal_path, kept):
            # Too damaged to open: kept as it is, with its WAL and index.
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{journal_path}{suffix}").exists():
                    Path(f"{journal_path}{suffix}").rename(f"{kept}{suffix}")
            staged.rename(journal_path)
        return kept
    finally:
        for leftover in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
            leftover.unlink(missing_ok=True)


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
        try:
            lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
            counts = (len(lines), sum(int(line["amount_cents"]) for line in lines))
        except (ValueError, TypeError, KeyError) as exc:
            checks.append(Check(name, False, f"{path} is not an archive any more: {exc}"))
            continue
        ok = actual == digest and counts == (events, cents)
        checks.append(Check(name, ok, f"sha256 {actual[:16]}…, {counts[0]} events, {counts[1]} cents" + ("" if ok else f" (journal says {digest[:16]}…, {events}, {cents})")))
    return checks
