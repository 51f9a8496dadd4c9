"""The keeper's HTTP endpoints: revenue webhooks, health and metrics.

Every error is JSON, `{"error": <stable code>, "message": <for people>}`,
with a 4xx for what the caller sent and a 503 for what the keeper cannot
reach (RPC, journal); an unexpected failure is logged and answered 500
`internal` in the same shape, never with a traceback."""

from __future__ import annotations

import asyncio
import hmac
import json
import sqlite3
import time
from typing import Any, Awaitable, Callable

from aiohttp import web
from loguru import logger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from keeper.client import Aistm7Client
from keeper.health import HealthPolicy, judge
from keeper.journal import ConflictingDuplicate, Journal, JournalUnavailable, proofs
from keeper.journal.group_commit import GroupCommit
from keeper.journal.store import age_secs
from keeper.metrics import KeeperMetrics
from keeper.money import DEFAULT_MAX_EVENT_CENTS, InvalidRevenue
from keeper.revenue_proof import document
from keeper.scheduler import Scheduler
from keeper.state import BuyOrder
from keeper.webhook import DEFAULT_TOLERANCE_SECS, MAX_BODY_BYTES, SIGNATURE_HEADER, Refused, parse_event, verify

RPC_TIMEOUT_SECS = 5.0
"""How long /status and /buy-orders wait for the RPC before answering 503."""
QUARANTINE_SHOWN = 100

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(code: str, message: str, status: int, **extra: Any) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status)


def _dumps(value: object) -> str:
    return json.dumps(value, default=str)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (404, 405, 413) and any failure as JSON errors."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status, "bad_request")
        return error(code, exc.reason, exc.status)
    except JournalUnavailable as exc:
        return error("journal_unavailable", str(exc), 503)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # Another process (archive, restore) holds the write lock: retry shortly.
        busy = error("journal_busy", "the journal is busy: retry in a second", 503)
        busy.headers["Retry-After"] = "1"
        return busy
    except sqlite3.DatabaseError as exc:  # a damaged journal file: the runbook's restore case
        logger.bind(job="http").error("the journal cannot be read: {}", exc)
        return error("journal_unavailable", f"the journal cannot be read ({exc}): restore a backup", 503)
    except Exception:  # the one place an unforeseen failure becomes a response
        logger.bind(job="http").exception("{} {} failed", request.method, request.path)
        return error("internal", "the keeper failed to answer; see its log", 500)


def make_app(
    journal: Journal,
    writer: GroupCommit,
    metrics: KeeperMetrics,
    scheduler: Scheduler,
    secret: bytes | None,
    trigger_token: str | None,
    client: Aistm7Client,
    health_policy: HealthPolicy = HealthPolicy(),
    max_event_cents: int = DEFAULT_MAX_EVENT_CENTS,
    tolerance_secs: int = DEFAULT_TOLERANCE_SECS,
) -> web.Application:
    log = logger.bind(job="http")
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[json_errors])

    async def revenue(request: web.Request) -> web.Response:
        if secret is None:
            return error("webhooks_disabled", "no webhook secret is configured", 503)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            metrics.revenue_received.labels("too_large").inc()
            return error("body_too_large", f"the body is over {MAX_BODY_BYTES} bytes", 413)
        body = await request.read()
        try:
            verify(secret, body, request.headers.get(SIGNATURE_HEADER), time.time(), tolerance_secs)
            event = parse_event(body, max_event_cents)
        except Refused as refused:
            metrics.revenue_received.labels(refused.code).inc()
            log.bind(reason=refused.code).warning("refused a revenue webhook: {}", refused.message)
            return error(refused.code, refused.message, refused.status)
        except InvalidRevenue as exc:
            metrics.revenue_received.labels("invalid").inc()
            return error("invalid_revenue", str(exc), 400)
        try:
            added = await writer.add(event)
        except ConflictingDuplicate as conflict:
            metrics.revenue_received.labels("conflict").inc()
            stored = {"source": conflict.source, "amount_cents": conflict.amount_cents}
            return error("conflicting_duplicate", str(conflict), 409, ref=event.ref, stored=stored)
        outcome = "recorded" if added else "duplicate"
        metrics.revenue_received.labels(outcome).inc()
        log.bind(ref=event.ref, cents=event.amount_cents, source=event.source).debug(
            "revenue {} {}: {} cents ({})", event.ref, outcome, event.amount_cents, event.source
        )
        return web.json_response({"ref": event.ref, "status": outcome}, status=201 if added else 200)

    async def health(_: web.Request) -> web.Response:
        verdict = await judge(journal, scheduler, client, health_policy)
        body = {"ok": verdict.ok, "reasons": verdict.reasons, **verdict.facts}
        return web.json_response(body, status=200 if verdict.ok else 503, dumps=_dumps)

    async def prometheus(_: web.Request) -> web.Response:
        totals = journal.totals()
        metrics.journal_backlog.set(totals["backlog_events"])
        metrics.journal_quarantined.set(totals["quarantined_events"])
        metrics.journal_quarantined_cents.set(totals["quarantined"])
        metrics.journal_oldest_unpushed.set(age_secs(journal.oldest_backlog_recorded()) or 0)
        metrics.journal_pending_age.set(age_secs(journal.pending_since()) or 0)
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def trigger(request: web.Request) -> web.Response:
        expected = f"Bearer {trigger_token}" if trigger_token else None
        given = request.headers.get("Authorization", "")
        if expected is None or not given.isascii() or not hmac.compare_digest(given.encode(), expected.encode()):
            return error("unauthorized", "a valid bearer token is required", 401)
        if "execute_buy_order" not in scheduler.jobs:
            return error("not_configured", "execute_buy_order is not configured (no price accounts)", 409)
        status = await scheduler.run_now("execute_buy_order")
        return web.json_response({"runs": status.runs, "errors": status.errors, "last_error": status.last_error})

    def journal_view() -> dict[str, object]:
        held = journal.held(limit=QUARANTINE_SHOWN)
        return {**journal.totals(), "last_confirmed_batch": journal.last_confirmed_seq(), "quarantined_refs": [vars(h) for h in held]}

    async def status(_: web.Request) -> web.Response:
        body: dict[str, object] = {"keeper": str(client.payer.pubkey()), "journal": journal_view()}
        try:
            config, buyback = await asyncio.wait_for(
                asyncio.gather(client.fetch_config(), client.fetch_buyback()), RPC_TIMEOUT_SECS
            )
        except Exception as exc:  # an RPC outage is reported, with what the keeper knows locally
            return error("rpc_unavailable", f"the RPC did not answer: {type(exc).__name__}", 503, **body)
        if config is not None:
            c = config.data
            body["config"] = {"slot": config.slot, "paused": c.paused, "mint": str(c.mint), "requirement": vars(c.requirement)}
        if buyback is not None:
            b = buyback.data
            body["treasury"] = {"last_batch_seq": b.last_batch_seq, "revenue": vars(b.revenue), "metrics": vars(b.metrics)}
        return web.json_response(body, dumps=_dumps)

    async def buy_orders(_: web.Request) -> web.Response:
        try:
            found = await asyncio.wait_for(client.fetch_all("BuyOrder"), RPC_TIMEOUT_SECS)
        except Exception as exc:  # as in /status
            return error("rpc_unavailable", f"the RPC did not answer: {type(exc).__name__}", 503)
        orders = [{**vars(BuyOrder.decode(raw)), "address": str(key)} for key, raw in found]
        orders.sort(key=lambda order: order["id"])
        return web.json_response(orders, dumps=_dumps)

    async def revenue_totals(_: web.Request) -> web.Response:
        return web.json_response(journal_view())

    async def revenue_proof(request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        try:
            proof = proofs.prove(journal, ref)
        except proofs.NotProvable as exc:
            return error("not_provable", str(exc), 404)
        return web.json_response(document(client.program_id, proof))

    app.add_routes(
        [
            web.post("/revenue", revenue),
            web.get("/revenue", revenue_totals),
            web.get("/revenue/proofs/{ref:.+}", revenue_proof),
            web.get("/health", health),
            web.get("/metrics", prometheus),
            web.get("/status", status),
            web.get("/buy-orders", buy_orders),
            web.post("/buy-orders/trigger", trigger),
        ]
    )
    return app
