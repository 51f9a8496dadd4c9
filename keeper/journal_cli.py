"""`aistm7 journal`: archive, back up, restore and verify the keeper's
revenue journal (see the README's recovery runbook)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from solders.keypair import Keypair

from keeper.cli_common import AsJson, JournalPath, RpcUrl, open_journal, with_client
from keeper.client import Aistm7Client
from keeper.jobs.push_revenue import JournalMismatch, check_totals
from keeper.journal import Journal
from keeper.log import escape
from keeper.journal.files import Check, JournalFileError, archive, backup, restore, verify_files

journal_app = typer.Typer(
    help="The keeper's revenue journal: archive, backup, restore, verify.", no_args_is_help=True
)


def _existing(journal: Path) -> Journal:
    if not journal.exists():
        typer.echo(f"no journal at {journal}", err=True)
        raise typer.Exit(2)
    return open_journal(journal)


def _date(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
        return when.astimezone(timezone.utc) if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date or time in range") from exc


@journal_app.command("archive")
def journal_archive(
    before: str = typer.Option(..., "--before", help="Archive events of batches confirmed before this date/time (ISO 8601; UTC without an offset)."),
    directory: Optional[Path] = typer.Option(None, "--dir", help="Where archive files go; default: archive/ beside the journal."),
    journal: Path = JournalPath,
) -> None:
    """Move confirmed events out of the journal into JSON Lines files (one per
    500 batches, named revenue-FIRST-LAST.jsonl) with a SHA-256 checksum
    beside each. Totals, batches and references stay (a re-delivered
    archived event is still a duplicate)."""
    when = _date(before)
    store = _existing(journal)
    try:
        done = archive(store, when, directory)
    except JournalFileError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        store.close()
    if not done:
        typer.echo(f"nothing confirmed before {when.isoformat()}")
    for chunk in done:
        typer.echo(f"archived {chunk.events} events ({chunk.cents} cents, batches up to {chunk.last_batch}) to {chunk.path}")
        typer.echo(f"sha256 {chunk.sha256}")


@journal_app.command("backup")
def journal_backup(
    destination: Path = typer.Argument(..., help="New file to write (never overwritten)."),
    journal: Path = JournalPath,
) -> None:
    """A consistent copy of the journal, safe while the keeper runs (SQLite
    online backup), with DESTINATION.sha256 beside it."""
    try:
        digest = backup(journal, destination)
    except (JournalFileError, OSError) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"backed up {journal} to {destination}\nsha256 {digest}")


@journal_app.command("restore")
def journal_restore(
    source: Path = typer.Argument(..., help="A backup written by `aistm7 journal backup`."),
    journal: Path = JournalPath,
) -> None:
    """Replace the journal with a backup (checked first: integrity and
    checksum). The journal it replaces is kept beside it. A running keeper
    switches to the restored file and brings it up to the chain: events the
    chain already has are confirmed, none is pushed twice, and entries only
    the lost journal had are named (`aistm7 journal trail`)."""
    try:
        kept = restore(source, journal)
    except (JournalFileError, OSError) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"restored {journal} from {source}" + (f"; the replaced journal is kept as {kept}" if kept else ""))


async def _chain_checks(client: Aistm7Client, store: Journal) -> list[Check]:
    buyback = await client.fetch_buyback()
    if buyback is None:
        return [Check("chain", False, "the buy-order treasury is not initialized")]
    on_chain = buyback.data.last_batch_seq
    confirmed = store.last_confirmed_seq()
    checks = [Check("chain-batch-seq", confirmed == on_chain, f"journal confirmed {confirmed}, program {on_chain}")]
    try:
        await check_totals(client, store)
    except JournalMismatch as exc:
        checks.append(Check("chain-totals", False, str(exc)))
    else:
        checks.append(Check("chain-totals", True, f"{buyback.data.revenue.total} cents on both sides"))
    return checks


@journal_app.command("verify")
def journal_verify(
    rpc_url: str = RpcUrl,
    offline: bool = typer.Option(False, "--offline", help="Check the files only, not the chain."),
    journal: Path = JournalPath,
    as_json: bool = AsJson,
) -> None:
    """Check the journal: SQLite integrity, running totals against rows and
    archives, every batch's total, archive checksums, and (unless --offline)
    the batch sequence and confirmed cents against the program. Exit 1 on
    any failed check."""
    store = _existing(journal)
    try:
        checks = verify_files(store)
        if not offline:
            checks += with_client(rpc_url, Keypair(), lambda client: _chain_checks(client, store))
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([vars(check) for check in checks], indent=2))
    else:
        for check in checks:
            typer.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@journal_app.command("trail")
def journal_trail(
    ref: Optional[str] = typer.Option(None, "--ref", help="Only this event's entries."),
    limit: int = typer.Option(100, "--limit", min=1, help="Newest entries shown."),
    journal: Path = JournalPath,
    as_json: bool = AsJson,
) -> None:
    """The journal's audit trail: quarantines, voids, requeues, restores,
    recoveries from the chain, archives; who and when."""
    store = _existing(journal)
    try:
        rows = store.audit_trail(ref, limit)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        typer.echo(escape(f"{row['at']} {row['action']:<12} {row['actor']:<10} {row['ref'] or '-'}: {row['detail']}"))
