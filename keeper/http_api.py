"""The keeper's HTTP endpoints: revenue webhooks, health and metrics."""

from __future__ import annotations

import hmac
import json
import time
from typing import Awaitable, Callable

from aiohttp import web
from loguru import logger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from keeper.client import Aistm7Client
from keeper.journal import ConflictingDuplicate, Journal
from keeper.money import InvalidRevenue
from keeper.state import BuyOrder
from keeper.metrics import KeeperMetrics
from keeper.scheduler import Scheduler
from keeper.webhook import MAX_BODY_BYTES, SIGNATURE_HEADER, parse_event, verified

SlotProbe = Callable[[], Awaitable[int]]


def make_app(
    journal: Journal,
    metrics: KeeperMetrics,
    scheduler: Scheduler,
    secret: bytes | None,
    slot: SlotProbe,
    trigger_token: str | None,
    client: Aistm7Client,
) -> web.Application:
    log = logger.bind(job="http")
    app = web.Application(client_max_size=MAX_BODY_BYTES)

    async def revenue(request: web.Request) -> web.Response:
        if secret is None:
            return web.json_response({"error": "webhooks are disabled: no secret configured"}, status=503)
        if (request.content_length or 0) > MAX_BODY_BYTES:
            metrics.revenue_received.labels("too_large").inc()
            return web.json_response({"error": "body too large"}, status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            metrics.revenue_received.labels("too_large").inc()
            return web.json_response({"error": "body too large"}, status=413)
        if not verified(secret, body, request.headers.get(SIGNATURE_HEADER)):
            metrics.revenue_received.labels("bad_signature").inc()
            log.warning("rejected a revenue webhook with a bad signature")
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            event = parse_event(body)
        except InvalidRevenue as exc:
            metrics.revenue_received.labels("invalid").inc()
            return web.json_response({"error": str(exc)}, status=400)
        try:
            added, _ = journal.add([event])
        except ConflictingDuplicate as conflict:
            metrics.revenue_received.labels("conflict").inc()
            stored = {"source": conflict.source, "amount_cents": conflict.amount_cents}
            return web.json_response({"error": "conflicting_duplicate", "ref": event.ref, "stored": stored}, status=409)
        outcome = "recorded" if added else "duplicate"
        metrics.revenue_received.labels(outcome).inc()
        log.info("revenue {} {}: {} cents ({})", event.ref, outcome, event.amount_cents, event.source)
        return web.json_response({"ref": event.ref, "status": outcome}, status=201 if added else 200)

    async def health(_: web.Request) -> web.Response:
        try:
            current_slot: int | None = await slot()
        except Exception:  # the RPC being down is what health reports
            current_slot = None
        jobs = {
            name: {
                "last_success": status.last_success,
                "seconds_since_success": None if status.last_success is None else time.time() - status.last_success,
                "runs": status.runs,
                "errors": status.errors,
                "last_error": status.last_error,
            }
            for name, status in scheduler.status.items()
        }
        healthy = current_slot is not None
        body = {"ok": healthy, "rpc_reachable": healthy, "slot": current_slot, "jobs": jobs, "journal": journal.totals()}
        return web.json_response(body, status=200 if healthy else 503)

    async def prometheus(_: web.Request) -> web.Response:
        metrics.journal_backlog.set(journal.totals()["backlog_events"])
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def trigger(request: web.Request) -> web.Response:
        expected = f"Bearer {trigger_token}" if trigger_token else None
        given = request.headers.get("Authorization", "")
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.json_response({"error": "a valid bearer token is required"}, status=401)
        if "execute_buy_order" not in scheduler.jobs:
            return web.json_response({"error": "execute_buy_order is not configured"}, status=409)
        status = await scheduler.run_now("execute_buy_order")
        return web.json_response({"runs": status.runs, "errors": status.errors, "last_error": status.last_error})

    async def status(_: web.Request) -> web.Response:
        config = await client.fetch_config()
        buyback = await client.fetch_buyback()
        body: dict[str, object] = {"keeper": str(client.payer.pubkey()), "journal": journal.totals()}
        if config is not None:
            c = config.data
            body["config"] = {"slot": config.slot, "paused": c.paused, "mint": str(c.mint), "requirement": vars(c.requirement)}
        if buyback is not None:
            b = buyback.data
            body["treasury"] = {"last_batch_seq": b.last_batch_seq, "revenue": vars(b.revenue), "metrics": vars(b.metrics)}
        return web.json_response(body, dumps=lambda value: json.dumps(value, default=str))

    async def buy_orders(_: web.Request) -> web.Response:
        orders = [{**vars(BuyOrder.decode(raw)), "address": str(key)} for key, raw in await client.fetch_all("BuyOrder")]
        orders.sort(key=lambda order: order["id"])
        return web.json_response(orders, dumps=lambda value: json.dumps(value, default=str))

    async def revenue_totals(_: web.Request) -> web.Response:
        return web.json_response({**journal.totals(), "last_confirmed_batch": journal.last_confirmed_seq()})

    app.add_routes(
        [
            web.post("/revenue", revenue),
            web.get("/revenue", revenue_totals),
            web.get("/health", health),
            web.get("/metrics", prometheus),
            web.get("/status", status),
            web.get("/buy-orders", buy_orders),
            web.post("/buy-orders/trigger", trigger),
        ]
    )
    return app
