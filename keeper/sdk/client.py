"""The gateway clients: `Gateway` (sync, httpx) and `AsyncGateway` (async,
httpx), one method per v1 endpoint, retrying what is safe to retry (429
after its Retry-After, 503 and dropped connections for idempotent calls,
a charge in progress) and following a pending charge until it settles."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, AsyncIterator, Iterator, Sequence, TypeVar

import httpx
import websockets
from websockets.sync.client import connect as connect_sync

from keeper.gateway import models
from keeper.sdk import calls
from keeper.sdk.calls import Call, GatewayError

T = TypeVar("T")
DEFAULT_RETRIES = 5
BACKOFF_SECS = 0.25
SETTLE_SECS = 60.0


def _wait(error: GatewayError | None, attempt: int) -> float:
    if error is not None and error.retry_after is not None:
        return error.retry_after
    return min(5.0, BACKOFF_SECS * float(2**attempt))


def _retry_wait(call: Call[Any], failed: Exception, attempt: int, retries: int) -> float:
    """How long to wait before trying `call` again after `failed`; raises it
    when it is not worth retrying or the retries are spent."""
    if isinstance(failed, GatewayError):
        if calls.retryable(call, failed) and attempt < retries:
            return _wait(failed, attempt)
    elif call.idempotent and attempt < retries:
        return _wait(None, attempt)
    raise failed


class _Resume:
    """Where a stream is: the last event it yielded, and its failed connections."""

    def __init__(self, base_url: str, api_key: str, types: Sequence[str] | None, last_event_id: str | None, starting_after: int | None, retries: int) -> None:
        self.base_url, self.types, self.retries = base_url, types, retries
        self.last_event_id, self.starting_after = last_event_id, starting_after
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.failures = 0

    def url(self) -> str:
        return _stream_url(self.base_url, self.last_event_id, self.starting_after, self.types)

    def seen(self, message: str | bytes) -> models.Event | None:
        """The event a message carries; None for the stream's opening, whose
        position a connection dropped before any event resumes from."""
        found = json.loads(message)
        if "stream" in found:
            if self.last_event_id is None:
                self.starting_after = int(found["after_seq"])
            return None
        event = models.Event.model_validate(found)
        self.last_event_id, self.failures = event.id, 0
        return event

    def dropped(self, failure: Exception | None) -> float:
        """The wait before reconnecting; raises for a refusal or when resuming failed too often."""
        if isinstance(failure, websockets.ConnectionClosed):
            _refused(failure)
        self.failures += 1
        if self.failures > self.retries:
            raise GatewayError(503, "stream_unavailable", "the stream could not be resumed")
        return _wait(None, self.failures)


def _stream_url(base_url: str, last_event_id: str | None, starting_after: int | None, types: Sequence[str] | None) -> str:
    url = base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1).rstrip("/") + "/v1/stream"
    # Once an event was seen its id is the cursor; `starting_after` only places the first connection.
    where = ("last_event_id", last_event_id) if last_event_id else ("starting_after", None if starting_after is None else str(starting_after))
    query = httpx.QueryParams({k: v for k, v in (where, ("types", ",".join(types or []))) if v})
    return f"{url}?{query}" if query else url


class Gateway:
    """Sync client: `with Gateway(url, api_key) as gateway: ...`."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0, retries: int = DEFAULT_RETRIES) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retries = retries
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, headers={"Authorization": f"Bearer {api_key}"})

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self.http.request(call.method, call.path, params=call.params, json=call.body)
                return calls.outcome(call, response.status_code, dict(response.headers), calls.payload(response.content))
            except (GatewayError, httpx.TransportError) as failed:
                time.sleep(_retry_wait(call, failed, attempt, self.retries))
            attempt += 1

    def access(self, wallet: str) -> models.Access:
        return self._run(calls.access(wallet))

    def requirement(self) -> models.Requirement:
        return self._run(calls.requirement())

    def fees(self) -> models.Fees:
        return self._run(calls.fees())

    def buy_orders(self, status: str | None = None, starting_after: int | None = None, limit: int = 20) -> models.Page[models.BuyOrder]:
        return self._run(calls.buy_orders(status, starting_after, limit))

    def revenue_summary(self, starting_after: int | None = None, limit: int = 20) -> models.RevenueSummary:
        return self._run(calls.revenue_summary(starting_after, limit))

    def charge(self, wallet: str, service: str, request_id: str, token_account: str | None = None) -> models.Charge:
        """Charge once per `request_id` (retries are safe); waits for a
        pending charge to settle. PaymentFailed when the wallet cannot pay."""
        found = self._run(calls.charge(wallet, service, request_id, token_account))
        deadline = time.monotonic() + SETTLE_SECS
        while found.status == "pending" and time.monotonic() < deadline:
            time.sleep(BACKOFF_SECS)
            found = self._run(calls.get_charge(request_id))
        return found

    def get_charge(self, request_id: str) -> models.Charge:
        return self._run(calls.get_charge(request_id))

    def charges(self, starting_after: int | None = None, limit: int = 20) -> models.Page[models.Charge]:
        return self._run(calls.charges(starting_after, limit))

    def events(self, starting_after: int | None = None, types: Sequence[str] | None = None, limit: int = 20) -> models.Page[models.Event]:
        return self._run(calls.events(starting_after, types, limit))

    def create_webhook(self, url: str, event_types: Sequence[str]) -> models.NewWebhook:
        return self._run(calls.create_webhook(url, event_types))

    def webhooks(self) -> list[models.Webhook]:
        return self._run(calls.webhooks())

    def delete_webhook(self, endpoint_id: int) -> models.Webhook:
        return self._run(calls.delete_webhook(endpoint_id))

    def deliveries(self, endpoint_id: int, starting_after: int | None = None, limit: int = 20) -> models.Page[models.Delivery]:
        return self._run(calls.deliveries(endpoint_id, starting_after, limit))

    def replay(self, endpoint_id: int, delivery_id: int) -> models.Replayed:
        return self._run(calls.replay(endpoint_id, delivery_id))

    def health(self) -> dict[str, Any]:
        return self._run(calls.health())

    def stream(
        self, types: Sequence[str] | None = None, last_event_id: str | None = None, starting_after: int | None = None
    ) -> Iterator[models.Event]:
        """Events in order as they happen, from after the event `last_event_id`
        or the seq `starting_after` (else from now); a dropped connection is
        resumed after the last event yielded, so nothing is missed or repeated."""
        where = _Resume(self.base_url, self.api_key, types, last_event_id, starting_after, self.retries)
        while True:
            failure: Exception | None = None
            try:
                with connect_sync(where.url(), additional_headers=where.headers) as socket:
                    for message in socket:
                        if (event := where.seen(message)) is not None:
                            yield event
            except (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError) as dropped:
                failure = dropped
            time.sleep(where.dropped(failure))


class AsyncGateway:
    """Async client: `async with AsyncGateway(url, api_key) as gateway: ...`."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0, retries: int = DEFAULT_RETRIES) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retries = retries
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, headers={"Authorization": f"Bearer {api_key}"})

    async def __aenter__(self) -> AsyncGateway:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self.http.request(call.method, call.path, params=call.params, json=call.body)
                return calls.outcome(call, response.status_code, dict(response.headers), calls.payload(response.content))
            except (GatewayError, httpx.TransportError) as failed:
                await asyncio.sleep(_retry_wait(call, failed, attempt, self.retries))
            attempt += 1

    async def access(self, wallet: str) -> models.Access:
        return await self._run(calls.access(wallet))

    async def requirement(self) -> models.Requirement:
        return await self._run(calls.requirement())

    async def fees(self) -> models.Fees:
        return await self._run(calls.fees())

    async def buy_orders(self, status: str | None = None, starting_after: int | None = None, limit: int = 20) -> models.Page[models.BuyOrder]:
        return await self._run(calls.buy_orders(status, starting_after, limit))

    async def revenue_summary(self, starting_after: int | None = None, limit: int = 20) -> models.RevenueSummary:
        return await self._run(calls.revenue_summary(starting_after, limit))

    async def charge(self, wallet: str, service: str, request_id: str, token_account: str | None = None) -> models.Charge:
        """As `Gateway.charge`."""
        found = await self._run(calls.charge(wallet, service, request_id, token_account))
        deadline = time.monotonic() + SETTLE_SECS
        while found.status == "pending" and time.monotonic() < deadline:
            await asyncio.sleep(BACKOFF_SECS)
            found = await self._run(calls.get_charge(request_id))
        return found

    async def get_charge(self, request_id: str) -> models.Charge:
        return await self._run(calls.get_charge(request_id))

    async def charges(self, starting_after: int | None = None, limit: int = 20) -> models.Page[models.Charge]:
        return await self._run(calls.charges(starting_after, limit))

    async def events(
        self, starting_after: int | None = None, types: Sequence[str] | None = None, limit: int = 20
    ) -> models.Page[models.Event]:
        return await self._run(calls.events(starting_after, types, limit))

    async def create_webhook(self, url: str, event_types: Sequence[str]) -> models.NewWebhook:
        return await self._run(calls.create_webhook(url, event_types))

    async def webhooks(self) -> list[models.Webhook]:
        return await self._run(calls.webhooks())

    async def delete_webhook(self, endpoint_id: int) -> models.Webhook:
        return await self._run(calls.delete_webhook(endpoint_id))

    async def deliveries(self, endpoint_id: int, starting_after: int | None = None, limit: int = 20) -> models.Page[models.Delivery]:
        return await self._run(calls.deliveries(endpoint_id, starting_after, limit))

    async def replay(self, endpoint_id: int, delivery_id: int) -> models.Replayed:
        return await self._run(calls.replay(endpoint_id, delivery_id))

    async def health(self) -> dict[str, Any]:
        return await self._run(calls.health())

    async def stream(
        self, types: Sequence[str] | None = None, last_event_id: str | None = None, starting_after: int | None = None
    ) -> AsyncIterator[models.Event]:
        """As `Gateway.stream`."""
        where = _Resume(self.base_url, self.api_key, types, last_event_id, starting_after, self.retries)
        while True:
            failure: Exception | None = None
            try:
                async with websockets.connect(where.url(), additional_headers=where.headers) as socket:
                    async for message in socket:
                        if (event := where.seen(message)) is not None:
                            yield event
            except (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError) as dropped:
                failure = dropped
            await asyncio.sleep(where.dropped(failure))


def _refused(closed: websockets.ConnectionClosed) -> None:
    """Raise for a close the gateway meant (44xx: the key, scope, input);
    other closes are resumed."""
    frame = closed.rcvd
    if frame is not None and 4400 <= frame.code < 4500:
        raise GatewayError(frame.code - 4000, frame.reason or "stream_refused", f"the stream was refused: {frame.reason}")
