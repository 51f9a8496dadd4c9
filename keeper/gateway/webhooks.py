"""Outgoing webhooks: the deliveries the outbox holds, POSTed in order per
endpoint, signed like the revenue webhooks the keeper accepts
(`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under
the endpoint's secret), retried with exponential backoff and jitter until
`give_up_secs` after the event, every attempt logged.

An endpoint's deliveries never overtake each other: while its oldest one
fails, the later ones wait, so a receiver that was down gets everything in
order once it is back. Receivers de-duplicate by the event's `id`."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import secrets
import socket
import time
from urllib.parse import urlsplit

import httpx
from loguru import logger

from keeper.gateway.errors import ApiError
from keeper.gateway.events import body
from keeper.gateway.store import DeliveryRow, EndpointRow, EventRow, Store, now_ms
from keeper.webhook import SIGNATURE_HEADER, sign

DEFAULT_RETRY_BASE_SECS = 1.0
DEFAULT_RETRY_MAX_SECS = 600.0
DEFAULT_GIVE_UP_SECS = 86_400.0
TIMEOUT_SECS = 10.0
"""For a whole attempt: connecting, sending and the response's headers."""
RESOLVE_SECS = 5.0
BATCH = 50
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
EVENT_ID_HEADER = "X-Event-Id"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _not_global(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside IPv6 (mapped, 6to4, NAT64) is judged as itself.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return not embedded.is_global
    return not ip.is_global


def _private(host: str) -> bool:
    """Whether `host` resolves to any address that is not global (an
    unresolvable host counts as private: it is refused, not guessed)."""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError, ValueError):
        return True
    return not addresses or any(_not_global(address) for address in addresses)


async def check_url(url: str, allow_private: bool) -> str:
    """An endpoint URL, refused unless http(s) with a host, no credentials
    and a valid port; hosts on loopback, private, link-local or embedded
    private addresses, and ports other than 80 and 443, only with
    `allow_private` (a gateway must not be a way into its own network)."""
    if len(url) > 2048:
        raise ApiError(400, "invalid_url", "the URL is over 2048 characters", "url")
    try:
        parsed = httpx.URL(url)
        parts = urlsplit(url)
        port = parts.port
    except (httpx.InvalidURL, ValueError):
        raise ApiError(400, "invalid_url", "not a valid URL", "url") from None
    if parsed.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password or not url.isascii():
        raise ApiError(400, "invalid_url", "an http(s) URL of ASCII characters with a host and no credentials", "url")
    if allow_private:
        return url
    if port not in (None, 80, 443):
        raise ApiError(400, "private_url", "only ports 80 and 443 are allowed", "url")
    try:
        private = await asyncio.wait_for(asyncio.to_thread(_private, parts.hostname), RESOLVE_SECS)
    except asyncio.TimeoutError:
        raise ApiError(400, "invalid_url", f"{parts.hostname} did not resolve in {RESOLVE_SECS:.0f} s", "url") from None
    if private:
        raise ApiError(400, "private_url", f"{parts.hostname} is not a public address", "url")
    return url


class Deliverer:
    def __init__(
        self,
        store: Store,
        http: httpx.AsyncClient,
        allow_private: bool,
        retry_base_secs: float = DEFAULT_RETRY_BASE_SECS,
        retry_max_secs: float = DEFAULT_RETRY_MAX_SECS,
        give_up_secs: float = DEFAULT_GIVE_UP_SECS,
    ) -> None:
        self.store = store
        self.http = http
        self.allow_private = allow_private
        self.retry_base_secs = retry_base_secs
        self.retry_max_secs = retry_max_secs
        self.give_up_ms = int(give_up_secs * 1000)
        self.log = logger.bind(job="webhooks")

    async def step(self) -> int:
        """Attempt each endpoint's due head delivery; how many were delivered."""
        due = await asyncio.to_thread(self.store.due_deliveries, now_ms(), BATCH)
        done = await asyncio.gather(*(self._attempt(*found) for found in due), return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                self.log.warning("a delivery attempt could not be recorded: {}: {}", type(outcome).__name__, outcome)
        return sum(1 for outcome in done if outcome is True)

    def _backoff_ms(self, attempts: int) -> int:
        wait = min(self.retry_max_secs, self.retry_base_secs * 2 ** min(attempts, 30))
        return int(wait * random.uniform(0.5, 1.0) * 1000)

    async def _attempt(self, delivery: DeliveryRow, endpoint: EndpointRow, event: EventRow) -> bool:
        payload = json.dumps(body(event), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(endpoint.secret.encode(), payload, int(time.time())),
            EVENT_ID_HEADER: event.event_id,
            "User-Agent": "aistm7-gateway",
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        host = urlsplit(endpoint.url).hostname or ""
        try:
            async with asyncio.timeout(TIMEOUT_SECS):
                if not self.allow_private and await asyncio.to_thread(_private, host):
                    error = f"{host} resolves to an address that is not public"
                else:
                    # Only the status counts: the body is never read (a receiver cannot stall or flood us).
                    async with self.http.stream("POST", endpoint.url, content=payload, headers=headers) as response:
                        status = response.status_code
                    if not 200 <= status < 300:
                        error = f"HTTP {status}"
        except TimeoutError:
            error = f"no answer within {TIMEOUT_SECS:.0f} s"
        except Exception as exc:  # any failure to deliver is the attempt's outcome, retried later
            error = f"{type(exc).__name__}: {exc}"[:512]
        latency = int((time.perf_counter() - started) * 1000)
        now = now_ms()
        if error is None:
            outcome, next_ms = "delivered", now
        elif now - delivery.created_ms >= self.give_up_ms:
            outcome, next_ms = "failed", now
            self.log.bind(endpoint=endpoint.id).warning("gave up delivering {} to endpoint {}: {}", event.event_id, endpoint.id, error)
        else:
            outcome, next_ms = "pending", now + self._backoff_ms(delivery.attempts)
        await asyncio.to_thread(self.store.record_attempt, delivery, status, latency, error, outcome, next_ms)
        self.log.bind(endpoint=endpoint.id, status=status).debug("{} {} to endpoint {}: {}", event.type, event.event_id, endpoint.id, outcome)
        return outcome == "delivered"
