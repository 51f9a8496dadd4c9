"""apscheduler wiring: runs jobs on their intervals and records how they went."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from loguru import logger

from keeper.jobs import JobResult
from keeper.metrics import KeeperMetrics

Job = Callable[[], Awaitable[JobResult]]


@dataclass
class JobStatus:
    last_success: float | None = None
    last_error: str | None = None
    runs: int = 0
    errors: int = 0


@dataclass
class Scheduler:
    metrics: KeeperMetrics
    status: dict[str, JobStatus] = field(default_factory=dict)
    scheduler: AsyncIOScheduler = field(default_factory=lambda: AsyncIOScheduler(timezone="UTC"))
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    jobs: dict[str, Job] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    def add(self, name: str, job: Job, seconds: float) -> None:
        """Run `job` every `seconds` (first run at once), never two at a time."""
        self._schedule(name, job, IntervalTrigger(seconds=seconds), datetime.now(timezone.utc))

    def add_cron(self, name: str, job: Job, crontab: str) -> None:
        """Run `job` on a crontab schedule (UTC), e.g. "0 0 * * *" daily at midnight."""
        self._schedule(name, job, CronTrigger.from_crontab(crontab, timezone="UTC"), None)

    def _schedule(self, name: str, job: Job, trigger: object, first_run: datetime | None) -> None:
        self.status[name] = JobStatus()
        self.jobs[name] = job

        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None
            self.in_flight.add(task)
            try:
                await self.run(name, job)
            finally:
                self.in_flight.discard(task)

        options = {} if first_run is None else {"next_run_time": first_run}
        self.scheduler.add_job(tracked, trigger, id=name, max_instances=1, coalesce=True, **options)

    async def run_now(self, name: str) -> JobStatus:
        """Run a scheduled job at once (on demand), recorded like a scheduled run."""
        await self.run(name, self.jobs[name])
        return self.status[name]

    async def run(self, name: str, job: Job) -> None:
        log = logger.bind(job=name)
        status = self.status[name]
        started = time.monotonic()
        status.runs += 1
        self.metrics.job_runs.labels(name).inc()
        try:
            result = await job()
        except Exception as exc:  # a failing job must not stop the daemon
            status.errors += 1
            status.last_error = f"{type(exc).__name__}: {exc}"
            self.metrics.job_errors.labels(name).inc()
            log.error("failed: {}", status.last_error)
        else:
            status.last_success = time.time()
            self.metrics.transactions.labels(name, "confirmed").inc(result.txs)
        finally:
            self.metrics.job_seconds.labels(name).observe(time.monotonic() - started)

    def start(self) -> None:
        self.scheduler.start()

    async def shutdown(self) -> None:
        """Stop scheduling; jobs in flight finish first."""
        self.scheduler.shutdown(wait=False)
        await asyncio.gather(*self.in_flight, return_exceptions=True)
