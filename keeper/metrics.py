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
        self.journal_quarantined = Gauge(
            "aistm7_journal_quarantined_events", "Events the program refused, held until voided or requeued", registry=self.registry
        )
        self.journal_quarantined_cents = Gauge(
            "aistm7_journal_quarantined_cents", "ZAR cents held in quarantine", registry=self.registry
        )
        self.journal_oldest_unpushed = Gauge(
            "aistm7_journal_oldest_unpushed_seconds", "Age of the oldest event not yet in a batch", registry=self.registry
        )
        self.journal_pending_age = Gauge(
            "aistm7_journal_pending_batch_seconds", "Age of the batch being sent (0: none)", registry=self.registry
        )
        self.revenue_received = Counter(
            "aistm7_revenue_received", "Revenue deliveries by outcome", ["outcome"], registry=self.registry
        )
