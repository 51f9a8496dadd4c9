"""Prometheus metrics of the keeper, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class KeeperMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.job_runs = Counter("aistm7_job_runs", "Job runs", ["job"], registry=self.registry)
        self.job_errors = Counter("aistm7_job_errors", "Job runs that failed", ["job"], registry=self.registry)
        self.job_seconds = Histogram("aistm7_job_seconds", "Job run time", ["job"], registry=self.registry)
        self.transactions = Counter(
            "aistm7_transactions", "Transactions sent by outcome", ["job", "outcome"], registry=self.registry
        )
        self.journal_backlog = Gauge(
            "aistm7_journal_backlog_events", "Journaled revenue events not yet in a batch", registry=self.registry
        )
        self.revenue_received = Counter(
            "aistm7_revenue_received", "Revenue deliveries by outcome", ["outcome"], registry=self.registry
        )
