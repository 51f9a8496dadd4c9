"""`aistm7 gateway run`: the app under uvicorn, its client and store, and
the leader loop (indexer and webhook deliveries), until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import httpx
import uvicorn
from loguru import logger
from solders.keypair import Keypair

from keeper.client import Aistm7Client
from keeper.deploy import load_keypair
from keeper.gateway.app import Gateway, make_app, wrap
from keeper.gateway.chain import ChainReader
from keeper.gateway.charges import Charges
from keeper.gateway.events import DEFAULT_ALERT_BPS
from keeper.gateway.indexer import Indexer, lead
from keeper.gateway.keys import KeyRing
from keeper.gateway.limits import Buckets
from keeper.gateway.reports import KeeperLink
from keeper.gateway.store import Store
from keeper.gateway.webhooks import DEFAULT_GIVE_UP_SECS, DEFAULT_RETRY_BASE_SECS, DEFAULT_RETRY_MAX_SECS, Deliverer

LEADER_INTERVAL_SECS = 0.5


@dataclass(frozen=True)
class Settings:
    rpc_url: str
    database: str
    host: str
    port: int
    fee_collector_keypair: Path | None
    cache_ttl_secs: float
    key_cache_secs: float
    charge_lease_secs: float
    wallet_charges_per_min: int
    allow_private_webhooks: bool = False
    retry_base_secs: float = DEFAULT_RETRY_BASE_SECS
    retry_max_secs: float = DEFAULT_RETRY_MAX_SECS
    give_up_secs: float = DEFAULT_GIVE_UP_SECS
    alert_bps: int = DEFAULT_ALERT_BPS
    keeper_url: str | None = None


class _Server(uvicorn.Server):
    """uvicorn re-raises the signal that stopped it once it has drained; the
    gateway stops cleanly instead (exit status 0 after SIGTERM or SIGINT),
    and tells its streams and its leader loop first."""

    def __init__(self, config: uvicorn.Config, stopping: asyncio.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def _exit(self, sig: int) -> None:
        self.stopping.set()
        self.handle_exit(sig, None)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._exit, sig)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def build(
    settings: Settings, client: Aistm7Client, store: Store, http: httpx.AsyncClient, after_send: Callable[[], None] | None = None
) -> Gateway:
    chain = ChainReader(client, settings.cache_ttl_secs)
    charges = None
    if settings.fee_collector_keypair is not None:
        charges = Charges(store, chain, client, settings.charge_lease_secs, settings.wallet_charges_per_min, after_send)
    keeper = None if settings.keeper_url is None else KeeperLink(settings.keeper_url, http)
    return Gateway(store, chain, charges, KeyRing(store, settings.key_cache_secs), Buckets(), settings.allow_private_webhooks, keeper)


async def serve(settings: Settings, after_send: Callable[[], None] | None = None) -> None:
    log = logger.bind(job="gateway")
    payer = Keypair() if settings.fee_collector_keypair is None else load_keypair(settings.fee_collector_keypair)
    store = await asyncio.to_thread(Store, settings.database)
    client = Aistm7Client.connect(settings.rpc_url, payer)
    # No redirects (a 3xx is a failed delivery) and no proxy from the environment.
    http = httpx.AsyncClient(follow_redirects=False, trust_env=False, headers={"Accept-Encoding": "identity"})
    try:
        gateway = build(settings, client, store, http, after_send)
        owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
        indexer = Indexer(store, client, owner, settings.alert_bps)
        deliverer = Deliverer(
            store, http, settings.allow_private_webhooks, settings.retry_base_secs, settings.retry_max_secs, settings.give_up_secs
        )
        leader = asyncio.create_task(lead(indexer, deliverer.step, gateway.stopping, LEADER_INTERVAL_SECS))
        config = uvicorn.Config(
            wrap(make_app(gateway)), host=settings.host, port=settings.port, log_level="warning",
            access_log=False, lifespan="off", timeout_graceful_shutdown=10,
        )
        server = _Server(config, gateway.stopping)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            role = f"charging as {payer.pubkey()}" if gateway.charges is not None else "read-only (no fee collector key)"
            log.info(
                "gateway listening on http://{}:{} (RPC {}, database {}, {})",
                settings.host, settings.port, settings.rpc_url, store.engine.url.render_as_string(hide_password=True), role,
            )
        await task
        gateway.stopping.set()
        await leader
        if not server.started:
            raise ValueError(f"the gateway could not listen on {settings.host}:{settings.port}")
        log.info("gateway stopped")
    finally:
        await http.aclose()
        await client.close()
        store.close()
