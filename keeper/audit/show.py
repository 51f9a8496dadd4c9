"""`audit show`: the snapshot as named tables, rendered as text tables, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Mapping, Union

from rich.console import Console
from rich.table import Table

from keeper.audit.history import plain
from keeper.audit.snapshot import Snapshot
from keeper.state import Proposal
from keeper.views import fee_rows, requirement_dict, tokens

Section = Union[dict[str, Any], list[dict[str, Any]]]
"""A mapping (one record, shown as field/value) or rows (one per account)."""


def _record(value: object) -> dict[str, Any]:
    found = plain(value)
    assert isinstance(found, dict)
    return found


def _proposal(proposal: Proposal) -> dict[str, Any]:
    """A proposal with its action named the way events name enum variants: {"Withdraw": {...}}."""
    return {**_record(proposal), "action": {type(proposal.action).__name__: plain(proposal.action)}}


def sections(s: Snapshot) -> dict[str, Section]:
    """Everything the program holds, by table name (also the JSON top level)."""
    config = _record(s.config)
    del config["requirement"], config["requirement_params"]
    shown: dict[str, Section] = {
        "summary": {
            "program_id": str(s.program_id),
            "slot": s.slot,
            "cluster_time": s.cluster_time,
            "charge_receipts": s.charge_receipts,
        },
        "config": config,
        "requirement": plain(requirement_dict(s.config, s.cluster_time, s.slot)),
        "fees": plain(fee_rows(s.fee_schedule or [], s.config.mint_decimals, s.cluster_time)),
    }
    if s.buyback is not None:
        treasury = _record(s.buyback)
        treasury["available_cents"] = s.buyback.available_cents
        m = s.buyback.metrics
        closed = m.orders_completed + m.orders_expired + m.orders_cancelled
        treasury["success_rate"] = None if closed == 0 else m.orders_completed / closed
        treasury["average_price_quote_units_per_token"] = (
            tokens(m.quote_spent * 10**s.config.mint_decimals // m.tokens_acquired, 0) if m.tokens_acquired else None
        )
        shown["treasury"] = treasury
    shown["buy_orders"] = [_record(order) for order in s.orders]
    shown["proposals"] = [_proposal(proposal) for proposal in s.proposals]
    shown["wallet_links"] = [_record(link) for link in s.wallet_links]
    shown["access_locks"] = [_record(lock) for lock in s.access_locks]
    shown["token_accounts"] = [_record(account) for account in s.token_accounts]
    shown["mints"] = [_record(mint) for mint in s.mints]
    return shown


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            flat[prefix + key] = " ".join(str(item) for item in value)
        else:
            flat[prefix + key] = value
    return flat


def table_rows(section: Section) -> list[dict[str, Any]]:
    if isinstance(section, dict):
        return [{"field": key, "value": value} for key, value in _flatten(section).items()]
    return [_flatten(row) for row in section]


def as_json(shown: dict[str, Section]) -> str:
    return json.dumps(shown, indent=2)


def as_csv(shown: dict[str, Section]) -> str:
    """One table: wide CSV (a column per field; one row for a single record). Several: long CSV with
    columns table,row,field,value, so one file holds every table."""
    out = io.StringIO()
    if len(shown) == 1:
        (section,) = shown.values()
        rows = [_flatten(section)] if isinstance(section, dict) else table_rows(section)
        columns = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    long = csv.writer(out, lineterminator="\n")
    long.writerow(["table", "row", "field", "value"])
    for name, section in shown.items():
        for index, row in enumerate(table_rows(section)):
            if isinstance(section, dict):
                long.writerow([name, 0, row["field"], row["value"]])
            else:
                long.writerows([name, index, field, value] for field, value in row.items())
    return out.getvalue()


def print_tables(shown: dict[str, Section], console: Console) -> None:
    for name, section in shown.items():
        rows = table_rows(section)
        table = Table(title=f"{name} ({len(section)} row(s))" if isinstance(section, list) else name, title_justify="left")
        columns = list(dict.fromkeys(key for row in rows for key in row)) or ["(none)"]
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*("" if row.get(column) is None else str(row.get(column)) for column in columns))
        console.print(table)
