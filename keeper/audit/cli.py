"""`aistm7 audit`: read, verify and report all program state from any RPC,
without the keeper or its journal."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable, Optional, TypeVar

import typer
from rich.console import Console
from solders.keypair import Keypair

from keeper import log, retry, revenue_proof
from keeper import revenue_tree as tree
from keeper.audit import history as history_module
from keeper.audit import report as report_module
from keeper.audit import revenue_roots
from keeper.audit import show as show_module
from keeper.audit import snapshot as snapshot_module
from keeper.audit.history import KINDS, History, HistoryEvent
from keeper.audit.snapshot import Snapshot
from keeper.audit.verify import Finding, check
from keeper.cli_common import AsJson, RpcUrl, with_client
from keeper.client import Aistm7Client

T = TypeVar("T")

audit_app = typer.Typer(
    help="Read, verify and report all program state straight from RPC (no keeper needed).", no_args_is_help=True
)
AsCsv = typer.Option(False, "--csv", help="Print CSV instead of a table.")
KIND_HELP = f"Event kind ({', '.join(KINDS)}) or event name; repeat for several."


def _read(rpc_url: str, action: Callable[[Aistm7Client], Awaitable[T]]) -> T:
    """Run a read; a missing program or an unreachable RPC is a clean exit 1."""
    try:
        return with_client(rpc_url, Keypair(), action)
    except (LookupError, snapshot_module.StateChanging) as exc:
        typer.echo(f"{rpc_url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    except (*retry.TRANSIENT, OSError) as exc:
        typer.echo(f"{rpc_url}: RPC unreachable or failing: {retry.describe(exc)}", err=True)
        raise typer.Exit(1) from exc


def _time(text: Optional[str]) -> Optional[int]:
    """Unix seconds or an ISO 8601 time (UTC when no zone is given)."""
    if text is None:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is neither unix seconds nor an ISO 8601 time") from exc
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp())


@audit_app.command("show")
def audit_show(
    rpc_url: str = RpcUrl,
    as_json: bool = AsJson,
    as_csv: bool = AsCsv,
    tables: list[str] = typer.Option([], "--table", help="Only this table (summary, config, requirement, fees, ...)."),
) -> None:
    """Every program account decoded through the IDL: config and authorities,
    requirement and its price, fee schedule with counters, treasury metrics,
    buy-orders, council proposals, wallet links, access locks, vaults and mints.

    CSV of one table has a column per field; CSV of several is long
    (table,row,field,value)."""
    snapshot = _read(rpc_url, snapshot_module.take)
    shown = show_module.sections(snapshot)
    unknown = [name for name in tables if name not in shown]
    if unknown:
        raise typer.BadParameter(f"unknown table(s) {', '.join(unknown)}; tables: {', '.join(shown)}")
    if tables:
        shown = {name: shown[name] for name in tables}
    if as_json:
        typer.echo(show_module.as_json(shown))
    elif as_csv:
        typer.echo(show_module.as_csv(shown), nl=False)
    else:
        show_module.print_tables(shown, Console())


def _event_row(event: HistoryEvent) -> dict[str, object]:
    when = None if event.block_time is None else datetime.fromtimestamp(event.block_time, timezone.utc).isoformat()
    return {"time": when, "slot": event.slot, "kind": event.kind, "event": event.name, "signature": event.signature,
            "data": event.data}


@audit_app.command("history")
def audit_history(
    rpc_url: str = RpcUrl,
    kinds: list[str] = typer.Option([], "--kind", help=KIND_HELP),
    since: Optional[str] = typer.Option(None, help="From this time (unix seconds or ISO 8601)."),
    until: Optional[str] = typer.Option(None, help="Up to this time (unix seconds or ISO 8601)."),
    as_json: bool = AsJson,
    as_csv: bool = AsCsv,
) -> None:
    """Program events read back from transaction logs, oldest first:
    requirement changes, fees, rewards, revenue batches, buy-orders, fills,
    locks, proposals, withdrawals, closed accounts and the rest."""
    start, end = _time(since), _time(until)

    async def read(client: Aistm7Client) -> History:
        return await history_module.read(client, kinds, start, end)

    found = _read(rpc_url, read)
    rows = [_event_row(event) for event in found.events]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if as_csv:
        flat = [{**row, "data": json.dumps(row["data"])} for row in rows]
        typer.echo(show_module.as_csv({"history": flat}), nl=False)
        return
    show_module.print_tables({"history": [{**row, "data": json.dumps(row["data"])} for row in rows]}, Console())


async def _snapshot_and_history(client: Aistm7Client, with_history: bool) -> tuple[Snapshot, History | None]:
    snapshot = await snapshot_module.take(client)
    if not with_history:
        return snapshot, None
    return snapshot, await history_module.read(client, upto=snapshot.last_signature)


@audit_app.command("verify")
def audit_verify(
    rpc_url: str = RpcUrl,
    no_history: bool = typer.Option(False, "--no-history", help="Skip the checks against the event history."),
    journal: Optional[Path] = typer.Option(
        None,
        "--journal",
        help="Instead, rebuild every revenue batch's Merkle-sum tree from this journal (or archive .jsonl) "
        "and compare root and sums with the program's batch accounts, naming each batch and event that differ.",
    ),
    as_json: bool = AsJson,
) -> None:
    """Recompute the invariants from raw accounts, token balances and the event
    history. Exits 1 naming each violated invariant, 0 when none is."""
    if journal is not None:
        if not journal.is_file():
            typer.echo(f"{journal}: no such file", err=True)
            raise typer.Exit(2)
        try:
            findings = _read(rpc_url, lambda client: revenue_roots.verify(client, journal))
        except revenue_roots.UnreadableEvidence as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    else:

        async def read(client: Aistm7Client) -> tuple[Snapshot, History | None]:
            return await _snapshot_and_history(client, not no_history)

        findings = list(check(*_read(rpc_url, read)))
    if as_json:
        typer.echo(json.dumps([vars(f) for f in findings], indent=2))
    else:
        for f in findings:
            typer.echo(f"{f.status.upper():<9} {f.invariant}: {f.detail}")
    violated = [f.invariant for f in findings if f.status == "violated"]
    if violated:
        typer.echo(f"{len(violated)} invariant(s) violated: {', '.join(violated)}", err=True)
        raise typer.Exit(1)


@audit_app.command("verify-proof")
def audit_verify_proof(
    proof_file: Path = typer.Argument(..., help="A proof from `aistm7 revenue prove` (JSON; - for stdin).", allow_dash=True),
    rpc_url: str = RpcUrl,
) -> None:
    """Check a revenue proof with no journal: its event's leaf, walked up its
    path, gives its root, and the program's account for its batch holds that
    root and those sums. Exits 0 when the event is counted on-chain, 1 when
    the proof does not hold (saying why), 2 when the file is unreadable."""
    try:
        text = sys.stdin.read() if str(proof_file) == "-" else proof_file.read_text()
        doc = json.loads(text)
    except (OSError, ValueError, RecursionError) as exc:
        typer.echo(f"{proof_file}: cannot read a JSON proof: {type(exc).__name__}", err=True)
        raise typer.Exit(2) from exc
    try:
        claim = revenue_proof.check(doc)

        async def read(client: Aistm7Client) -> None:
            if claim.program_id != client.program_id:
                raise tree.InvalidProof(f"the proof is for program {claim.program_id}, not {client.program_id}")
            landed = (await client.fetch_revenue_batches([claim.batch_seq])).get(claim.batch_seq)
            revenue_proof.on_chain(claim, landed)

        _read(rpc_url, read)
    except tree.InvalidProof as exc:
        typer.echo(log.escape(f"INVALID: {exc}"), err=True)
        raise typer.Exit(1) from exc
    event = claim.event
    typer.echo(log.escape(
        f"VALID: {event['ref']} ({event['source']}, {event['cents']} cents) is counted in batch {claim.batch_seq} "
        f"of {claim.program_id} (root {claim.root.hash.hex()}, {claim.root.sums[3]} events)"
    ))


@audit_app.command("report")
def audit_report(
    rpc_url: str = RpcUrl,
    out: Path = typer.Option(..., "--out", help="Directory to write report.html into (created if missing)."),
) -> None:
    """A self-contained HTML report (inline SVG charts: price and requirement
    over time, revenue vs buy-order spend, fees by service; invariants; state;
    events), readable offline."""

    async def read(client: Aistm7Client) -> tuple[Snapshot, History | None]:
        return await _snapshot_and_history(client, True)

    snapshot, found = _read(rpc_url, read)
    assert found is not None
    findings: list[Finding] = list(check(snapshot, found))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    path.write_text(report_module.render(snapshot, show_module.sections(snapshot), found, findings), encoding="utf-8")
    violated = sum(f.status == "violated" for f in findings)
    typer.echo(f"wrote {path}: {len(found.events)} event(s), {violated} violated invariant(s)")
