"""Read-only views for people and their dashboards: the treasury with its
quote vault, revenue per source and day, a merchant's charge totals and
CSV export, the keeper's health and status, and a revenue reference's
inclusion proof checked against the chain."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Query, Response
from solders.pubkey import Pubkey

from keeper import revenue_proof
from keeper import revenue_tree as tree
from keeper.gateway import models
from keeper.gateway.cache import Shared
from keeper.gateway.charges import as_dict
from keeper.gateway.errors import ApiError
from keeper.gateway.store import ChargeFilter, KeyRow
from keeper.money import MAX_REF_CHARS

if TYPE_CHECKING:
    from keeper.gateway.app import Gateway

EXPORT_MAX_ROWS = 10_000
"""Charges one CSV export holds; `X-Next-Cursor` continues past them."""
EXPORT_PAGE = 500
MAX_DAYS = 90
SECS_PER_DAY = 86_400
KEEPER_TIMEOUT_SECS = 5.0
KEEPER_CACHE_SECS = 2.0
DAILY_CACHE_SECS = 5.0
MAX_KEEPER_BYTES = 1_000_000
SOURCES = ("course_sale", "subscription", "other")
CSV_COLUMNS = (
    "request_id", "status", "service", "amount_units", "wallet", "token_account", "signature", "slot",
    "error_code", "error_message", "created_ms", "completed_ms",
)


@dataclass(frozen=True)
class KeeperLink:
    """The keeper's HTTP API, as the gateway reaches it (answers shared for a
    couple of seconds: many dashboards cost the keeper one health check)."""

    url: str
    http: httpx.AsyncClient
    shared: Shared = field(default_factory=lambda: Shared(KEEPER_CACHE_SECS))

    async def get(self, path: str) -> tuple[int, Any]:
        """(status, JSON body) of GET `path`; `httpx.HTTPError` or `ValueError` when it cannot be had."""
        return await self.shared.get(path, lambda: self._get(path))

    async def _get(self, path: str) -> tuple[int, Any]:
        async with self.http.stream("GET", f"{self.url}{path}", timeout=KEEPER_TIMEOUT_SECS) as response:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_KEEPER_BYTES:
                    raise ValueError(f"the keeper's answer to {path} is over {MAX_KEEPER_BYTES} bytes")
        try:
            return response.status_code, json.loads(body)
        except RecursionError as exc:
            raise ValueError(f"the keeper's answer to {path} is nested too deep") from exc


def charge_filter(
    status: Optional[str] = Query(None, pattern="^(pending|succeeded|failed)$", description="pending, succeeded or failed"),
    service: Optional[str] = Query(None, pattern="^[^\\x00-\\x1f\\x7f]{1,32}$", description="A service of the fee schedule"),
    wallet: Optional[str] = Query(None, min_length=32, max_length=44, description="The paying wallet (base58)"),
    since_ms: Optional[int] = Query(None, ge=0, le=2**63 - 1, description="Created at or after (Unix ms)"),
    until_ms: Optional[int] = Query(None, ge=0, le=2**63 - 1, description="Created before (Unix ms)"),
) -> ChargeFilter:
    if wallet is not None:
        try:
            Pubkey.from_string(wallet)
        except ValueError:
            raise ApiError(400, "invalid_wallet", "wallet is not a base58 public key", "wallet") from None
    return ChargeFilter(status, service, wallet, since_ms, until_ms)


def day_of(block_time: int) -> str:
    return datetime.fromtimestamp(block_time, timezone.utc).strftime("%Y-%m-%d")


def _per_day(gateway: Gateway, since: int) -> dict[str, Any]:
    """Revenue per source and UTC day of the batches from `since` on."""
    per_day: dict[str, dict[str, int]] = {}
    for row in gateway.store.events_since("revenue.batch_committed", since):
        batch = json.loads(row.data)["batch"]
        day = per_day.setdefault(day_of(row.block_time or 0), {**dict.fromkeys((*SOURCES, "total"), 0), "batches": 0})
        for source in (*SOURCES, "total"):
            day[source] += int(batch[source])
        day["batches"] += 1
    return {"data": [{"day": day, **sums} for day, sums in sorted(per_day.items())]}


def add_routes(
    app: FastAPI, gateway: Gateway, read: Any, charge: Any, errors: dict[int | str, dict[str, Any]],
    rpc: Callable[[Awaitable[Any]], Awaitable[Any]],
) -> None:
    daily = Shared(DAILY_CACHE_SECS)

    @app.get("/v1/treasury", response_model=models.Treasury, responses=errors, tags=["treasury"])
    async def treasury(_: KeyRow = read) -> dict[str, Any]:
        """The buy-order treasury: revenue reported and unused, lifetime
        counters, the average price paid, and the quote vault's balance."""
        snap, vault = await rpc(gateway.chain.treasury())
        buyback = snap.buyback
        metrics = vars(buyback.metrics)
        acquired = metrics["tokens_acquired"]
        average = None
        if acquired:
            # quote base units per token base unit, as quote per whole token
            per_token = Decimal(metrics["quote_spent"]) / Decimal(acquired)
            average = f"{per_token.scaleb(snap.config.mint_decimals - buyback.quote_decimals).quantize(Decimal('1e-9')):f}"
        return {
            "slot": snap.slot,
            "cluster_time": snap.cluster_time,
            "quote_mint": str(buyback.quote_mint),
            "quote_decimals": buyback.quote_decimals,
            "quote_vault": str(buyback.quote_vault),
            "quote_vault_balance": None if vault is None else vault.amount,
            "token_decimals": snap.config.mint_decimals,
            "revenue_cents": vars(buyback.revenue),
            "available_cents": buyback.available_cents,
            "metrics": metrics,
            "average_price": average,
        }

    @app.get("/v1/revenue/daily", response_model=models.RevenueDaily, responses=errors, tags=["treasury"])
    async def revenue_daily(_: KeyRow = read, days: int = Query(30, ge=1, le=MAX_DAYS)) -> dict[str, Any]:
        """Revenue reported on-chain per source and UTC day, from the batches
        this gateway indexed, for the last `days` days (today included)."""
        since = (int(time.time()) // SECS_PER_DAY - days + 1) * SECS_PER_DAY
        # Shared for a few seconds: every open revenue page asks again after each batch.
        return await daily.get(since, lambda: asyncio.to_thread(_per_day, gateway, since))

    @app.get("/v1/reports/charge-totals", response_model=models.ChargeTotals, responses=errors, tags=["charges"])
    async def charge_totals(key: KeyRow = charge, only: ChargeFilter = Depends(charge_filter)) -> dict[str, Any]:
        """Charges and base units per service and status, under the list's filters."""
        rows = await asyncio.to_thread(gateway.store.charge_totals, key.merchant, only)
        return {"data": [{"service": s, "status": st, "charges": n, "amount_units": units} for s, st, n, units in rows]}

    @app.get(
        "/v1/reports/charges.csv", response_class=Response, tags=["charges"],
        responses={**errors, 200: {"content": {"text/csv": {}}, "description": "One row a charge, newest first"}},
    )
    async def export_charges(
        key: KeyRow = charge,
        only: ChargeFilter = Depends(charge_filter),
        starting_after: Optional[int] = Query(None, ge=1, le=2**63 - 1, description="X-Next-Cursor of the previous export"),
    ) -> Response:
        """The filtered charges as CSV, newest first, at most 10,000 a file:
        `X-Next-Cursor` (as `starting_after`) continues when there are more."""
        rows: list[Any] = []
        cursor = starting_after
        while len(rows) <= EXPORT_MAX_ROWS:
            page = await asyncio.to_thread(gateway.store.list_charges, key.merchant, cursor, EXPORT_PAGE, only)
            rows.extend(page)
            if len(page) < EXPORT_PAGE:
                break
            cursor = page[-1].id
        more = len(rows) > EXPORT_MAX_ROWS
        rows = rows[:EXPORT_MAX_ROWS]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            shown = as_dict(row)
            error = shown.pop("error") or {}
            shown.update(error_code=error.get("code"), error_message=error.get("message"))
            writer.writerow([_cell(shown[column]) for column in CSV_COLUMNS])
        headers = {"Content-Disposition": f'attachment; filename="charges-{key.merchant}.csv"'}
        if more:
            headers["X-Next-Cursor"] = str(rows[-1].id)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)

    def keeper() -> KeeperLink:
        if gateway.keeper is None:
            raise ApiError(503, "keeper_unknown", "this gateway was started without --keeper-url")
        return gateway.keeper

    @app.get("/v1/keeper", response_model=models.KeeperView, responses=errors, tags=["service"])
    async def keeper_view(_: KeyRow = read) -> dict[str, Any]:
        """The keeper's health verdict, journal position and job counters,
        from its /health (whose 503 is an unhealthy verdict)."""
        try:
            health = (await keeper().get("/health"))[1]
            return models.KeeperView.model_validate({**health, "reachable": True}).model_dump()
        except (httpx.HTTPError, ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            return {"reachable": False, "ok": None, "error": f"the keeper did not answer /health: {type(exc).__name__}"}

    @app.get("/v1/revenue/proofs/{ref:path}", response_model=models.ProofCheck, responses={**errors, 404: errors[400], 422: errors[400]}, tags=["treasury"])
    async def revenue_proof_check(
        ref: str, _: KeyRow = read, cents: int = Query(..., ge=1, le=2**63 - 1, description="The event's amount in ZAR cents, as its holder knows it"),
    ) -> dict[str, Any]:
        """A revenue event's inclusion proof, from the keeper's journal,
        checked here against the program's batch account. It is given to
        whoever knows the event's reference and amount (an invoice's holder),
        and every other answer is the same 404: references cannot be walked
        to read the ledger. 422: the keeper's proof does not hold."""
        if not 1 <= len(ref) <= MAX_REF_CHARS:
            raise ApiError(400, "invalid_ref", f"ref is 1 to {MAX_REF_CHARS} characters", "ref")
        try:
            status, doc = await keeper().get(f"/revenue/proofs/{quote(ref, safe='')}")
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiError(503, "keeper_unavailable", f"the keeper did not answer: {type(exc).__name__}") from exc
        if status not in (200, 404):
            raise ApiError(503, "keeper_unavailable", f"the keeper answered {status}")
        event = doc.get("event") if status == 200 and isinstance(doc, dict) else None
        if not isinstance(event, dict) or event.get("cents") != cents:
            raise ApiError(404, "not_provable", "no revenue event with this reference and amount is confirmed on-chain", "ref")
        try:
            claim = revenue_proof.check(doc)
            if claim.program_id != gateway.chain.client.program_id or claim.event.get("ref") != ref:
                raise tree.InvalidProof("the keeper's proof is for another program or reference")
            slot, landed = await rpc(gateway.chain.batch(claim.batch_seq))
            revenue_proof.on_chain(claim, landed)
        except tree.InvalidProof as exc:
            raise ApiError(422, "proof_invalid", str(exc), "ref") from exc
        assert landed is not None  # on_chain refuses a missing batch
        batch = {**vars(landed), "root": landed.root.hex(), "totals_cents": vars(landed.totals)}
        return {"ref": ref, "verified": True, "slot": slot, "proof": doc, "batch": batch}


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

