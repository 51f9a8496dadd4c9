"""Whether the keeper is doing its job, and if not, why: the verdict behind
`GET /health`. Healthy means all of:

- the RPC answers within `rpc_timeout_secs` (the probe is abandoned after
  it, so a hung RPC is reported, never waited for);
- the journal file is there;
- no batch has been pending, no event quarantined and no push gone without
  a success for longer than `max_age_secs`;
- the oldest unpushed event is younger than `max_age_secs`;
- the journal and the program agree: same last batch (or the next one
  pending) and, with nothing pending, the same confirmed cents."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from keeper.client import Aistm7Client
from keeper.journal import Journal, JournalUnavailable
from keeper.journal.store import age_secs
from keeper.scheduler import Scheduler

DEFAULT_MAX_AGE_SECS = 300.0
DEFAULT_RPC_TIMEOUT_SECS = 0.5


@dataclass(frozen=True)
class HealthPolicy:
    max_age_secs: float = DEFAULT_MAX_AGE_SECS
    rpc_timeout_secs: float = DEFAULT_RPC_TIMEOUT_SECS


@dataclass
class Verdict:
    reasons: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reasons


async def _chain(client: Aistm7Client) -> tuple[int, int | None, int | None]:
    """Slot, and the program's last batch and confirmed cents (None before
    the treasury exists)."""
    slot, buyback = await asyncio.gather(client.connection.get_slot(), client.fetch_buyback())
    if buyback is None:
        return slot.value, None, None
    return slot.value, buyback.data.last_batch_seq, buyback.data.revenue.total


def _journal(journal: Journal, policy: HealthPolicy, verdict: Verdict) -> tuple[int, int | None, int] | None:
    """Journal facts and their reasons; (last confirmed batch, pending batch
    or None, confirmed cents), None when the journal is gone."""
    try:
        totals = journal.totals()
        confirmed_seq = journal.last_confirmed_seq()
        pending = journal.pending_batch()
        oldest_backlog = age_secs(journal.oldest_backlog_recorded())
        quarantined = age_secs(journal.oldest_quarantined())
        pending_age = age_secs(journal.pending_since())
    except (JournalUnavailable, sqlite3.DatabaseError) as exc:
        verdict.reasons.append(f"the journal cannot be read: {exc}")
        return None
    verdict.facts["journal"] = {
        **totals,
        "last_confirmed_batch": confirmed_seq,
        "pending_batch": None if pending is None else pending.seq,
        "pending_batch_age_secs": pending_age,
        "oldest_unpushed_age_secs": oldest_backlog,
        "oldest_quarantined_age_secs": quarantined,
    }
    limit = policy.max_age_secs
    if pending is not None and pending_age is not None and pending_age > limit:
        verdict.reasons.append(f"batch {pending.seq} has been failing to land for {pending_age:.0f} s")
    if quarantined is not None and quarantined > limit:
        verdict.reasons.append(
            f"{totals['quarantined_events']} quarantined events, the oldest for {quarantined:.0f} s: "
            "aistm7 revenue show --quarantined, then void or requeue them"
        )
    if oldest_backlog is not None and oldest_backlog > limit:
        verdict.reasons.append(f"the oldest unpushed event is {oldest_backlog:.0f} s old")
    return confirmed_seq, None if pending is None else pending.seq, totals["confirmed"]


async def judge(journal: Journal, scheduler: Scheduler, client: Aistm7Client, policy: HealthPolicy) -> Verdict:
    verdict = Verdict()
    local = _journal(journal, policy, verdict)
    try:
        slot, chain_seq, chain_cents = await asyncio.wait_for(_chain(client), policy.rpc_timeout_secs)
    except Exception as exc:  # what the RPC failed with is the report
        verdict.reasons.append(f"the RPC did not answer within {policy.rpc_timeout_secs} s ({type(exc).__name__})")
        verdict.facts |= {"rpc_reachable": False, "slot": None}
    else:
        verdict.facts |= {"rpc_reachable": True, "slot": slot, "chain": {"last_batch_seq": chain_seq, "confirmed": chain_cents}}
        if local is not None and chain_seq is not None:
            confirmed_seq, pending_seq, confirmed_cents = local
            if confirmed_seq > chain_seq:
                verdict.reasons.append(f"the journal confirmed batch {confirmed_seq}, the program has only {chain_seq}")
            elif confirmed_seq < chain_seq and pending_seq != chain_seq:
                verdict.reasons.append(f"the program has batch {chain_seq}, the journal only {confirmed_seq}: recovering")
            elif pending_seq is None and confirmed_cents != chain_cents:
                verdict.reasons.append(f"the journal confirmed {confirmed_cents} cents, the program counted {chain_cents}")
    now = time.time()
    jobs: dict[str, Any] = {}
    for name, status in scheduler.status.items():
        since = None if status.last_success is None else now - status.last_success
        jobs[name] = {
            "last_success": status.last_success,
            "seconds_since_success": since,
            "runs": status.runs,
            "errors": status.errors,
            "last_error": status.last_error,
        }
    push = scheduler.status.get("push_revenue")
    if push is not None:
        silent = now - (push.last_success or scheduler.started_at)
        if silent > policy.max_age_secs:
            verdict.reasons.append(f"push_revenue has not succeeded for {silent:.0f} s (last error: {push.last_error})")
    verdict.facts["jobs"] = jobs
    return verdict
