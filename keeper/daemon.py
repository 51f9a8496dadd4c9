"""`aistm7 keeper run`: the scheduler and the HTTP endpoints until a signal."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from loguru import logger

from keeper.client import Aistm7Client
from keeper.deploy import load_keypair
from keeper.jobs import push_revenue
from keeper.journal import Journal
from keeper.metrics import KeeperMetrics
from keeper.scheduler import Scheduler
from keeper.http_api import make_app


@dataclass(frozen=True)
class DaemonSettings:
    rpc_url: str
    keypair: Path
    journal: Path
    http_host: str
    http_port: int
    webhook_secret: bytes | None
    push_interval_secs: float


async def run(settings: DaemonSettings) -> None:
    log = logger.bind(job="daemon")
    keypair = load_keypair(settings.keypair)
    client = Aistm7Client.connect(settings.rpc_url, keypair)
    journal = Journal(settings.journal)
    metrics = KeeperMetrics()
    scheduler = Scheduler(metrics)
    scheduler.add("push_revenue", lambda: push_revenue.run(client, journal), settings.push_interval_secs)

    async def slot() -> int:
        return (await client.connection.get_slot()).value

    app = make_app(journal, metrics, scheduler, settings.webhook_secret, slot)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await site.start()
        scheduler.start()
        log.info(
            "keeper {} on {}; HTTP on {}:{}; journal {}",
            keypair.pubkey(), settings.rpc_url, settings.http_host, settings.http_port, settings.journal,
        )
        await stop.wait()
        log.info("stopping: finishing the jobs in flight")
    finally:
        await scheduler.shutdown()
        await runner.cleanup()
        await client.close()
        journal.close()
        log.info("stopped")
