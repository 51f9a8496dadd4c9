"""The gateway's routes: parse, call the chain reader or the charge service,
shape the reply. Every error is `{"error": {"code", "message", "param"}}`
with a 4xx for what the caller sent, 503 for what the gateway cannot reach
(RPC, database) and, for anything unforeseen, a logged 500 `internal`."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Optional

import httpx
from fastapi import Depends, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from loguru import logger
from solana.exceptions import SolanaRpcException
from solana.rpc.core import RPCException
from solders.pubkey import Pubkey
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keeper.gateway import account, keys, models, reports
from keeper.gateway.chain import ChainReader, NotInitialized
from keeper.gateway.charges import Charges, as_dict
from keeper.gateway.errors import ApiError
from keeper.gateway.limits import Buckets, retry_after
from keeper.gateway.events import TYPES, body, dumps
from keeper.gateway.reports import KeeperLink, charge_filter
from keeper.gateway.site import site
from keeper.gateway.store import ChargeFilter, EndpointRow, EventRecord, KeyRow, Store
from keeper.gateway.webhooks import check_url, new_secret
from keeper.views import access_dict, fee_rows, requirement_dict

MAX_BODY_BYTES = 4_096
MAX_CURSOR = 2**63 - 1
MAX_WEBHOOKS = 16
STREAM_BATCH = 100
STREAM_POLL_SECS = 0.25
MAX_STREAMS = 256
"""Open streams a process serves (each polls the database)."""
MAX_STREAMS_PER_KEY = 8
MAX_STREAMS_PER_MERCHANT = 32
"""Streams one merchant's keys hold together in a process (however many keys it makes)."""
STREAM_KEY_CHECK_SECS = 1.0
"""How often an open stream checks that its key is still live."""
AUTH_FAILURES_PER_SEC = 5.0
AUTH_FAILURES_BURST = 50
RPC_TIMEOUT_SECS = 10.0
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorBody, "description": text}
    for status, text in (
        (400, "Malformed input"),
        (401, "Missing, unknown or revoked API key"),
        (403, "The key lacks the scope"),
        (429, "Rate limited (see Retry-After)"),
        (503, "The RPC or the database cannot be reached"),
    )
}


def error(status: int, code: str, message: str, param: str | None = None, retry: float | None = None, **extra: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "param": param}, **extra}
    headers = {"Retry-After": retry_after(retry)} if retry is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


class BodyTooLarge(Exception):
    pass


class Guard:
    """Pure ASGI middleware: bodies over MAX_BODY_BYTES get 413 (declared or
    streamed), every call is logged with its key id, status and time, and an
    unforeseen failure is a JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logger.bind(job="gateway")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})
        status = 500
        response_started = False

        async def counted_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            body = await _read_body(scope, receive)
            await self.app(scope, _replay(body, receive), counted_send)
        except BodyTooLarge:
            await error(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")(scope, receive, counted_send)
        except Exception:
            self.log.exception("{} {} failed", scope["method"], scope["path"])
            if not response_started:
                await error(500, "internal", "the gateway failed to answer; see its log")(scope, receive, counted_send)
        key_id = scope["state"].get("key_id", "-")
        self.log.bind(key=key_id, status=status).info(
            "{} {} {} {:.1f} ms key={}", scope["method"], scope["path"], status, (time.perf_counter() - started) * 1000, key_id
        )


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole body, refused past MAX_BODY_BYTES whether declared or
    streamed in chunks (read before the app runs: a framework parsing it
    would turn the refusal into its own 400)."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge()
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body  # the client went away; the app sees an empty body
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge()
        if not message.get("more_body", False):
            return body


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


@dataclass
class Gateway:
    store: Store
    chain: ChainReader
    charges: Charges | None
    keyring: keys.KeyRing
    buckets: Buckets
    allow_private_webhooks: bool = False
    keeper: KeeperLink | None = None
    """Where the keeper answers (its health, status and revenue proofs), when known."""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server stops: streams end."""
    streams: dict[str, int] = field(default_factory=dict)
    """Open streams per key id."""
    merchant_streams: dict[str, int] = field(default_factory=dict)
    """Open streams per merchant."""


def _wallet(text: str, param: str = "wallet") -> Pubkey:
    try:
        if len(text) > 44:
            raise ValueError(text)
        return Pubkey.from_string(text)
    except ValueError:
        raise ApiError(400, "invalid_wallet", f"{param} is not a base58 public key", param) from None


def _page(items: list[Any], limit: int, cursor: Callable[[Any], int]) -> dict[str, Any]:
    more = len(items) > limit
    shown = items[:limit]
    return {"data": shown, "has_more": more, "next_cursor": cursor(shown[-1]) if more and shown else None}


def make_app(gateway: Gateway) -> FastAPI:
    app = FastAPI(
        title="AISTM7 merchant gateway",
        version="1",
        summary="Access checks, service-fee charges and program state for merchants.",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer agw_...`")

    def scoped(scope: str) -> Callable[[Request, Optional[HTTPAuthorizationCredentials]], Awaitable[KeyRow]]:
        async def authorize(request: Request, _: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> KeyRow:
            address = f"ip:{request.client.host if request.client else '-'}"
            try:
                key_id, secret = keys.parse(keys.bearer(request.headers.get("authorization")))
                hit, row = gateway.keyring.lookup_cached(key_id)
                if not hit:
                    blocked = gateway.buckets.wait(address, AUTH_FAILURES_PER_SEC, AUTH_FAILURES_BURST)
                    if blocked:  # an address guessing keys gets no more database look-ups for a while
                        raise ApiError(429, "rate_limited", "too many invalid API keys from this address", retry_after=blocked)
                    row = await asyncio.to_thread(gateway.keyring.load, key_id)
                checked = keys.check(row, secret, scope)
            except keys.KeyRefused as refused:
                if refused.code != "insufficient_scope":
                    gateway.buckets.take(address, AUTH_FAILURES_PER_SEC, AUTH_FAILURES_BURST)
                raise ApiError(403 if refused.code == "insufficient_scope" else 401, refused.code, refused.message) from None
            request.state.key_id = checked.key_id
            wait = gateway.buckets.take(checked.key_id, checked.rate_per_sec, checked.burst)
            if wait:
                raise ApiError(429, "rate_limited", f"key {checked.key_id} is over {checked.rate_per_sec}/s", retry_after=wait)
            return checked

        return authorize

    read = Depends(scoped("read"))
    charge = Depends(scoped("charge"))

    async def rpc(pending: Awaitable[Any]) -> Any:
        return await asyncio.wait_for(pending, RPC_TIMEOUT_SECS)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, exc.message, exc.param, exc.retry_after)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        param = ".".join(where) or None
        code = "invalid_json" if first.get("type") == "json_invalid" else "invalid_request"
        return error(400, code, f"{param or 'the request'}: {first.get('msg', 'invalid')}", param)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(NotInitialized)
    async def _uninitialized(_: Request, exc: NotInitialized) -> JSONResponse:
        return error(503, "not_initialized", str(exc))

    async def _unreachable(_: Request, exc: Exception) -> JSONResponse:
        return error(503, "rpc_unavailable", f"the RPC did not answer: {type(exc).__name__}", retry=1)

    for unreachable in (SolanaRpcException, RPCException, httpx.HTTPError, asyncio.TimeoutError, ConnectionError):
        app.add_exception_handler(unreachable, _unreachable)

    @app.exception_handler(SQLAlchemyError)
    async def _database(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        logger.bind(job="gateway").error("database: {}: {}", type(exc).__name__, exc)
        return error(503, "database_unavailable", "the gateway's database did not answer", retry=1)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after this answer: the guard logs the traceback.
        return error(500, "internal", "the gateway failed to answer; see its log")

    @app.get("/v1/health", tags=["service"], summary="Whether this process can reach its RPC and database")
    async def health() -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            checks["schema"] = await asyncio.to_thread(gateway.store.schema)
            checks["database"] = "ok"
        except Exception as exc:  # reported, not raised: this is the health check
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            state = await rpc(gateway.chain.state())
            checks.update(rpc="ok", slot=state.slot, paused=state.config.paused)
        except Exception as exc:  # as above
            checks["rpc"] = f"unavailable: {type(exc).__name__}"
        checks["charges"] = "enabled" if gateway.charges is not None else "disabled (no fee collector key)"
        ok = checks["database"] == "ok" and checks["rpc"] == "ok"
        return JSONResponse({"ok": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/v1/access/{wallet}", response_model=models.Access, responses=ERRORS, tags=["access"])
    async def access(wallet: str, _: KeyRow = read) -> dict[str, Any]:
        """The wallet's live access decision: its locked tokens, the effective
        requirement (its price and age, any override) and the slot they were read at."""
        owner = _wallet(wallet)
        snap = await rpc(gateway.chain.access(owner))
        shown = access_dict(snap.config, owner, snap.lock, snap.cluster_time, snap.slot)
        return {**shown, "requirement": requirement_dict(snap.config, snap.cluster_time, snap.slot)}

    @app.get("/v1/requirement", response_model=models.Requirement, responses=ERRORS, tags=["access"])
    async def requirement(_: KeyRow = read) -> dict[str, Any]:
        """The effective access requirement, the price that set it and its age."""
        snap = await rpc(gateway.chain.state())
        return requirement_dict(snap.config, snap.cluster_time, snap.slot)

    @app.get("/v1/fees", response_model=models.Fees, responses=ERRORS, tags=["fees"])
    async def fees(_: KeyRow = read) -> dict[str, Any]:
        """Every service of the fee schedule: cost, window, whether it is payable now."""
        snap = await rpc(gateway.chain.state())
        if snap.services is None:
            raise NotInitialized("the program has no fee schedule")
        return {
            "slot": snap.slot,
            "cluster_time": snap.cluster_time,
            "data": fee_rows(snap.services, snap.config.mint_decimals, snap.cluster_time),
        }

    @app.get("/v1/buy-orders", response_model=models.Page[models.BuyOrder], responses=ERRORS, tags=["treasury"])
    async def buy_orders(
        _: KeyRow = read,
        status: Optional[str] = Query(None, max_length=16, description="Only orders in this status (Pending, Completed, Expired, Cancelled)"),
        starting_after: Optional[int] = Query(None, ge=0, le=MAX_CURSOR, description="The last id of the previous page"),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        """Buy-order accounts by id (settled orders leave once closed)."""
        orders = await rpc(gateway.chain.buy_orders())
        chosen = [
            vars(order) for order in orders
            if (starting_after is None or order.id > starting_after) and (status is None or order.status.lower() == status.lower())
        ]
        return _page(chosen[: limit + 1], limit, lambda order: order["id"])

    @app.get("/v1/revenue/summary", response_model=models.RevenueSummary, responses=ERRORS, tags=["treasury"])
    async def revenue_summary(
        _: KeyRow = read,
        starting_after: Optional[int] = Query(None, ge=1, le=MAX_CURSOR, description="The last batch_seq of the previous page"),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        """Revenue reported on-chain per source, and the batches that reported it, newest first."""
        snap = await rpc(gateway.chain.state())
        if snap.buyback is None:
            raise NotInitialized("the program has no buy-order treasury")
        treasury = snap.buyback
        top = treasury.last_batch_seq if starting_after is None else min(treasury.last_batch_seq, starting_after - 1)
        seqs = list(range(top, max(0, top - limit - 1), -1))
        found = await rpc(gateway.chain.batches(seqs))
        batches = [
            {**vars(batch), "root": batch.root.hex(), "totals_cents": vars(batch.totals)}
            for seq in seqs if (batch := found.get(seq)) is not None
        ]
        return {
            "slot": snap.slot,
            "revenue_cents": vars(treasury.revenue),
            "available_cents": treasury.available_cents,
            "last_batch_seq": treasury.last_batch_seq,
            "batches": _page(batches, limit, lambda batch: batch["batch_seq"]),
        }

    def charges_service() -> Charges:
        if gateway.charges is None:
            raise ApiError(503, "charges_disabled", "this gateway has no fee collector key: it only reads")
        return gateway.charges

    @app.post(
        "/v1/charges",
        response_model=models.Charge,
        status_code=201,
        tags=["charges"],
        responses={
            **ERRORS,
            200: {"model": models.Charge, "description": "A retry: the first result (header Idempotent-Replayed: true)"},
            202: {"model": models.Charge, "description": "Sent, outcome not known yet: GET it later"},
            402: {"model": models.FailedCharge, "description": "Balance or allowance short; or the program refused it"},
            409: {"model": models.ErrorBody, "description": "request_id reused for another charge, in progress, or paused"},
        },
    )
    async def create_charge(body: models.ChargeRequest, key: KeyRow = charge) -> Any:
        """Charge a service's fee from the wallet's allowance, once per
        `request_id`: validated first (service payable now, balance and
        allowance cover the fee, key and wallet limits), then sent with the
        fee collector's key. Refusals before sending write nothing."""
        service = charges_service()
        wallet = _wallet(body.wallet)
        account = None if body.token_account is None else _wallet(body.token_account, "token_account")
        if not 0 < len(body.service) <= 32:
            raise ApiError(400, "unknown_service", "service: 1-32 characters", "service")
        # No timeout here: a charge being sent must not be cut off (the sender bounds its own retries).
        outcome = await service.create(key, wallet, body.service, body.request_id, account)
        return _charge_reply(outcome.row, outcome.replayed)

    @app.get("/v1/charges/{request_id}", response_model=models.Charge, responses=ERRORS, tags=["charges"])
    async def get_charge(request_id: str, key: KeyRow = charge) -> Any:
        """A charge of this key's merchant by its request id."""
        row = await charges_service().get(key.merchant, request_id)
        if row is None:
            raise ApiError(404, "charge_not_found", f"no charge with request_id {request_id!r}", "request_id")
        return as_dict(row)

    @app.get("/v1/charges", response_model=models.Page[models.Charge], responses=ERRORS, tags=["charges"])
    async def list_charges(
        key: KeyRow = charge,
        only: ChargeFilter = Depends(charge_filter),
        starting_after: Optional[int] = Query(None, ge=1, le=MAX_CURSOR, description="next_cursor of the previous page"),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        """This key's merchant's charges, newest first, filtered by status, service, wallet and time."""
        rows = await asyncio.to_thread(gateway.store.list_charges, key.merchant, starting_after, limit + 1, only)
        page = _page(rows, limit, lambda row: row.id)
        return {**page, "data": [as_dict(row) for row in page["data"]]}

    admin = Depends(scoped("admin"))

    def webhook_dict(row: EndpointRow) -> dict[str, Any]:
        return {"id": row.id, "url": row.url, "events": sorted(row.type_set), "created_ms": row.created_ms}

    async def own_endpoint(key: KeyRow, endpoint_id: int) -> EndpointRow:
        row = await asyncio.to_thread(gateway.store.endpoint, endpoint_id) if 0 < endpoint_id <= MAX_CURSOR else None
        if row is None or row.merchant != key.merchant or row.deleted_ms is not None:
            raise ApiError(404, "webhook_not_found", f"no webhook endpoint {endpoint_id}", "id")
        return row

    @app.post("/v1/webhooks", response_model=models.NewWebhook, status_code=201, responses=ERRORS, tags=["webhooks"])
    async def create_webhook(body: models.WebhookRequest, key: KeyRow = admin) -> dict[str, Any]:
        """Register an endpoint for event types: every later event of those
        types (this merchant's charges, everyone's chain events) is POSTed to
        it, signed with the secret returned here once."""
        url = await check_url(body.url, gateway.allow_private_webhooks)
        if len(await asyncio.to_thread(gateway.store.list_endpoints, key.merchant)) >= MAX_WEBHOOKS:
            raise ApiError(409, "too_many_webhooks", f"a merchant has at most {MAX_WEBHOOKS} endpoints")
        row = await asyncio.to_thread(gateway.store.add_endpoint, key.merchant, url, sorted(set(body.events)), new_secret())
        return {**webhook_dict(row), "secret": row.secret}

    @app.get("/v1/webhooks", response_model=list[models.Webhook], responses=ERRORS, tags=["webhooks"])
    async def list_webhooks(key: KeyRow = admin) -> list[dict[str, Any]]:
        """This merchant's endpoints (never their secrets)."""
        return [webhook_dict(row) for row in await asyncio.to_thread(gateway.store.list_endpoints, key.merchant)]

    @app.delete("/v1/webhooks/{endpoint_id}", response_model=models.Webhook, responses=ERRORS, tags=["webhooks"])
    async def delete_webhook(endpoint_id: int, key: KeyRow = admin) -> dict[str, Any]:
        """Stop an endpoint; its pending deliveries are cancelled, its log kept."""
        row = await own_endpoint(key, endpoint_id)
        await asyncio.to_thread(gateway.store.delete_endpoint, key.merchant, endpoint_id)
        return webhook_dict(row)

    @app.get("/v1/webhooks/{endpoint_id}/deliveries", response_model=models.Page[models.Delivery], responses=ERRORS, tags=["webhooks"])
    async def list_deliveries(
        endpoint_id: int,
        key: KeyRow = admin,
        starting_after: Optional[int] = Query(None, ge=1, le=MAX_CURSOR, description="next_cursor of the previous page"),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        """The endpoint's delivery log, newest first: status, attempts with status codes and latency."""
        await own_endpoint(key, endpoint_id)
        rows = await asyncio.to_thread(gateway.store.list_deliveries, endpoint_id, starting_after, limit + 1)
        shown = [
            {**vars(delivery), "event_id": event_id, "event_type": type_, "tries": [vars(a) for a in tries]}
            for delivery, event_id, type_, tries in rows
        ]
        return _page(shown, limit, lambda delivery: delivery["id"])

    @app.post(
        "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
        response_model=models.Replayed, status_code=202, responses=ERRORS, tags=["webhooks"],
    )
    async def replay(endpoint_id: int, delivery_id: int, key: KeyRow = admin) -> dict[str, Any]:
        """Deliver a delivery's event again (a new delivery, after the ones already queued)."""
        await own_endpoint(key, endpoint_id)
        found = await asyncio.to_thread(gateway.store.replay, endpoint_id, delivery_id) if 0 < delivery_id <= MAX_CURSOR else None
        if found is None:
            raise ApiError(404, "delivery_not_found", f"no delivery {delivery_id} of endpoint {endpoint_id}", "delivery_id")
        return {"delivery_id": found}

    @app.post("/v1/webhooks/{endpoint_id}/test", response_model=models.TestSent, status_code=202, responses=ERRORS, tags=["webhooks"])
    async def send_test(endpoint_id: int, key: KeyRow = admin) -> dict[str, Any]:
        """Send this endpoint a `webhook.test` event now (whatever types it
        wants), signed like any delivery; it shows in the delivery log."""
        endpoint = await own_endpoint(key, endpoint_id)
        event_id = f"test:{endpoint.id}:{secrets.token_hex(8)}"
        # No URL in it: read keys see the merchant's events, and a webhook URL can hold a secret.
        data = {"event": "WebhookTest", "endpoint_id": endpoint.id}
        record = EventRecord(event_id, "webhook.test", key.merchant, None, None, None, dumps(data))
        delivery = await asyncio.to_thread(gateway.store.test_delivery, endpoint, record)
        return {"delivery_id": delivery, "event_id": event_id}

    @app.get("/v1/events", response_model=models.Page[models.Event], responses=ERRORS, tags=["events"])
    async def list_events(
        key: KeyRow = read,
        starting_after: Optional[int] = Query(None, ge=0, le=MAX_CURSOR, description="The seq of the last event seen"),
        ending_before: Optional[int] = Query(
            None, ge=1, le=MAX_CURSOR, description="Newest first, before this seq (a seq above the newest gives the latest events)"
        ),
        types: Optional[str] = Query(None, max_length=512, description="Comma-separated event types"),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        """Events in order, oldest first from `starting_after` (the stream's log,
        for polling); or newest first before `ending_before` (history)."""
        if ending_before is not None:
            if starting_after is not None:
                raise ApiError(400, "invalid_request", "starting_after and ending_before exclude each other", "ending_before")
            rows = await asyncio.to_thread(gateway.store.events_before, ending_before, key.merchant, _types(types), limit + 1)
        else:
            rows = await asyncio.to_thread(gateway.store.events_after, starting_after or 0, key.merchant, _types(types), limit + 1)
        return _page([body(row) for row in rows], limit, lambda event: event["seq"])

    account.add_routes(app, gateway, Depends(scoped("")), admin, ERRORS, rpc)
    reports.add_routes(app, gateway, read, charge, ERRORS, rpc)

    @app.websocket("/v1/stream")
    async def stream(
        socket: WebSocket, last_event_id: Optional[str] = None, starting_after: Optional[str] = None, types: Optional[str] = None
    ) -> None:
        """Events pushed in order as JSON text messages, right after the event
        `last_event_id` or the seq `starting_after` (else from now), without gaps."""
        await run_stream(gateway, socket, last_event_id, starting_after, types)

    app.mount("/", site(), name="dashboard")
    return app


async def run_stream(gateway: Gateway, socket: WebSocket, last_event_id: str | None, starting_after: str | None, types: str | None) -> None:
    # Accepted first: a refusal is then a close code the client can read
    # (4401 key, 4403 scope, 4400 input, 4404 unknown last_event_id, 4429
    # too many streams or requests), not a bare 403.
    await socket.accept()
    token = socket.headers.get("authorization") or (f"Bearer {socket.query_params['api_key']}" if "api_key" in socket.query_params else None)
    address = f"ip:{socket.client.host if socket.client else '-'}"
    try:
        if gateway.buckets.wait(address, AUTH_FAILURES_PER_SEC, AUTH_FAILURES_BURST):
            raise ApiError(429, "rate_limited", "too many invalid API keys from this address")
        key_id, secret = keys.parse(keys.bearer(token))
        hit, cached = gateway.keyring.lookup_cached(key_id)
        try:
            key = keys.check(cached if hit else await asyncio.to_thread(gateway.keyring.load, key_id), secret, "read")
        except keys.KeyRefused as refused:
            if refused.code != "insufficient_scope":
                gateway.buckets.take(address, AUTH_FAILURES_PER_SEC, AUTH_FAILURES_BURST)
            raise
        if gateway.buckets.take(key.key_id, key.rate_per_sec, key.burst):
            raise ApiError(429, "rate_limited", f"key {key.key_id} is over its rate")
        if (
            sum(gateway.streams.values()) >= MAX_STREAMS or gateway.streams.get(key.key_id, 0) >= MAX_STREAMS_PER_KEY
            or gateway.merchant_streams.get(key.merchant, 0) >= MAX_STREAMS_PER_MERCHANT
        ):
            raise ApiError(429, "too_many_streams", f"at most {MAX_STREAMS_PER_KEY} streams a key, {MAX_STREAMS_PER_MERCHANT} a merchant")
        wanted = _types(types)
        seq = await _stream_start(gateway, key.merchant, last_event_id, starting_after)
    except (keys.KeyRefused, ApiError) as refused:
        status = refused.status if isinstance(refused, ApiError) else (403 if refused.code == "insufficient_scope" else 401)
        await socket.close(code=4000 + status, reason=refused.code)
        return
    gateway.streams[key.key_id] = gateway.streams.get(key.key_id, 0) + 1
    gateway.merchant_streams[key.merchant] = gateway.merchant_streams.get(key.merchant, 0) + 1
    log = logger.bind(job="stream", key=key.key_id)
    log.info("stream opened for key {} after seq {}", key.key_id, seq)
    try:
        # First the position the stream starts after: a client that drops
        # before any event resumes from here, not from a later "now".
        await socket.send_text(json.dumps({"stream": "open", "after_seq": seq}))
        checked_at = time.monotonic()
        while not gateway.stopping.is_set():
            if time.monotonic() - checked_at >= STREAM_KEY_CHECK_SECS:
                # A key revoked while its stream is open loses the stream too.
                checked_at = time.monotonic()
                hit, row = gateway.keyring.lookup_cached(key.key_id)
                row = row if hit else await asyncio.to_thread(gateway.keyring.load, key.key_id)
                if row is None or row.revoked_at is not None:
                    await socket.close(code=4401, reason="api_key_revoked")
                    break
            top = await asyncio.to_thread(gateway.store.last_seq)
            found = await asyncio.to_thread(gateway.store.events_after, seq, key.merchant, wanted, STREAM_BATCH)
            for event in found:
                await socket.send_text(json.dumps(body(event), separators=(",", ":")))
                seq = event.seq
            if len(found) < STREAM_BATCH:
                # Every event up to `top` was committed before the query: none
                # of the rest is for this stream, so the next query starts past them.
                seq = max(seq, top)
                try:
                    await asyncio.wait_for(gateway.stopping.wait(), STREAM_POLL_SECS)
                except asyncio.TimeoutError:
                    pass
        else:
            await socket.close(code=1001, reason="the gateway is stopping")
    except (WebSocketDisconnect, ConnectionError):
        pass
    finally:
        gateway.streams[key.key_id] -= 1
        gateway.merchant_streams[key.merchant] -= 1
    log.info("stream closed for key {} at seq {}", key.key_id, seq)


async def _stream_start(gateway: Gateway, merchant: str, last_event_id: str | None, starting_after: str | None) -> int:
    if starting_after is not None:
        if not (starting_after.isascii() and starting_after.isdigit()) or int(starting_after) > MAX_CURSOR:
            raise ApiError(400, "invalid_starting_after", "starting_after is a seq")
        return int(starting_after)
    if last_event_id is None:
        return await asyncio.to_thread(gateway.store.last_seq)
    known = await asyncio.to_thread(gateway.store.event_seq, last_event_id[:128], merchant)
    if known is None:
        raise ApiError(404, "unknown_last_event_id", "no such event for this merchant")
    return known


def _types(text: str | None) -> frozenset[str] | None:
    if not text:
        return None
    wanted = frozenset(part.strip() for part in text.split(","))
    unknown = wanted - set(TYPES)
    if unknown:
        raise ApiError(400, "unknown_event_type", f"unknown event types: {', '.join(sorted(unknown))}", "types")
    return wanted


def _charge_reply(row: Any, replayed: bool) -> JSONResponse:
    shown = as_dict(row)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if row.status == "failed":
        error_body = {"error": {"code": row.error_code, "message": row.error_message, "param": None}, "charge": shown}
        return JSONResponse(error_body, status_code=402, headers=headers)
    status = 202 if row.status == "pending" else (200 if replayed else 201)
    return JSONResponse(shown, status_code=status, headers=headers)


def wrap(app: FastAPI) -> ASGIApp:
    """The app behind its guard (body limit, call log, 500s)."""
    return Guard(app)
