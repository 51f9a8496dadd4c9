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
from solders.pubkey import Pubkey

from keeper.jobs import cranks, push_revenue
from keeper.jobs.price_alerts import PriceAlerts
from keeper.journal import Journal
from keeper.journal.group_commit import GroupCommit
from keeper.metrics import KeeperMetrics
from keeper.scheduler import Scheduler
from keeper.health import HealthPolicy
from keeper.http_api import make_app
from keeper.money import DEFAULT_MAX_EVENT_CENTS
from keeper.webhook import DEFAULT_TOLERANCE_SECS


JOURNAL_BUSY_TIMEOUT_SECS = 0.25
"""How long the event loop's journal waits for another process's write lock."""
PUSH_BUSY_TIMEOUT_SECS = 5.0
"""How long the push job (in a worker thread) waits for the write lock held
by a group of webhooks or an archive."""
WRITER_BUSY_TIMEOUT_SECS = 1.0
"""How long a group of webhook events waits for the write lock (a push or
an archive holding it) before its requests are answered 503 journal_busy."""


@dataclass(frozen=True)
class DaemonSettings:
    rpc_url: str
    keypair: Path
    journal: Path
    http_host: str
    http_port: int
    webhook_secret: bytes | None
    push_interval_secs: float
    trigger_token: str | None = None
    token_price: Pubkey | None = None
    backup_price: Pubkey | None = None
    usd_zar_price: Pubkey | None = None
    refresh_interval_secs: float = 30.0
    buyback_cron: str = "0 0 * * *"
    buyback_interval_secs: float | None = None
    """When set, replaces `buyback_cron` (local schedules)."""
    close_interval_secs: float = 300.0
    priority_fee: bool = True
    alert_webhook: str | None = None
    alert_price_bps: int = 500
    alert_requirement_bps: int = 1_000
    alert_interval_secs: float = 60.0
    push_linger_secs: float = 2.0
    max_event_cents: int = DEFAULT_MAX_EVENT_CENTS
    signature_tolerance_secs: int = DEFAULT_TOLERANCE_SECS
    health: HealthPolicy = HealthPolicy()


async def run(settings: DaemonSettings) -> None:
    log = logger.bind(job="daemon")
    keypair = load_keypair(settings.keypair)
    client = Aistm7Client.connect(settings.rpc_url, keypair, priority_fee=settings.priority_fee)
    # Three connections, so the event loop never waits on SQLite: the loop's
    # reads (health, metrics, status), webhooks through the group writer's
    # thread, and the push job's, used from a worker thread.
    journal = Journal(settings.journal, busy_timeout_secs=JOURNAL_BUSY_TIMEOUT_SECS)
    writer = GroupCommit(settings.journal, busy_timeout_secs=WRITER_BUSY_TIMEOUT_SECS)
    writer.start()
    pusher = Journal(settings.journal, busy_timeout_secs=PUSH_BUSY_TIMEOUT_SECS)
    metrics = KeeperMetrics()
    scheduler = Scheduler(metrics)
    scheduler.add(
        "push_revenue",
        lambda: push_revenue.run(client, pusher, linger_secs=settings.push_linger_secs),
        settings.push_interval_secs,
    )
    scheduler.add("close_expired_orders", lambda: cranks.close_expired_orders(client), settings.close_interval_secs)
    scheduler.add("close_settled_orders", lambda: cranks.close_settled_orders(client), settings.close_interval_secs)
    if settings.token_price is None:
        log.warning("no --token-price: refresh_requirement and execute_buy_order are not scheduled")
    else:
        prices = cranks.PriceAccounts(settings.token_price, settings.backup_price, settings.usd_zar_price)
        alerts = PriceAlerts(
            settings.token_price, settings.alert_price_bps, settings.alert_requirement_bps, settings.alert_webhook
        )
        scheduler.add("price_alerts", lambda: alerts.run(client), settings.alert_interval_secs)
        scheduler.add(
            "refresh_requirement", lambda: cranks.refresh_requirement(client, prices), settings.refresh_interval_secs
        )
        if settings.usd_zar_price is None:
            log.warning("no --usd-zar-price: execute_buy_order is not scheduled")
        else:
            execute = lambda: cranks.execute_buy_order(client, prices)  # noqa: E731
            if settings.buyback_interval_secs is None:
                scheduler.add_cron("execute_buy_order", execute, settings.buyback_cron)
            else:
                scheduler.add("execute_buy_order", execute, settings.buyback_interval_secs)

    app = make_app(
        journal,
        writer,
        metrics,
        scheduler,
        settings.webhook_secret,
        settings.trigger_token,
        client,
        settings.health,
        settings.max_event_cents,
        settings.signature_tolerance_secs,
    )
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
        writer.close()
        await client.close()
        pusher.close()
        journal.close()
        log.info("stopped")
