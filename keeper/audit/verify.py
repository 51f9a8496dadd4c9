"""Invariants recomputed from raw accounts, token balances and the event
history. Each check names one invariant; `verify` never trusts a stored
aggregate it can recompute."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Concatenate, Iterator, Literal, ParamSpec

from spl.token.constants import TOKEN_PROGRAM_ID

from keeper import addresses
from keeper.audit.history import History
from keeper.audit.snapshot import Snapshot
from keeper.state import PROPOSAL_EXECUTION_WINDOW_SECS, Buyback, Withdraw

Status = Literal["ok", "violated", "skipped"]
P = ParamSpec("P")


@dataclass(frozen=True)
class Finding:
    invariant: str
    status: Status
    detail: str = ""


def _finding(invariant: str, problems: list[str], checked: str) -> Finding:
    return Finding(invariant, "violated", "; ".join(problems)) if problems else Finding(invariant, "ok", checked)


def needs_treasury(
    check: Callable[Concatenate[Snapshot, Buyback, P], Finding],
) -> Callable[Concatenate[Snapshot, P], Finding]:
    """A check of the buy-order treasury: skipped where none was initialized."""
    name = check.__name__.replace("_", "-")

    def run(s: Snapshot, /, *args: P.args, **kwargs: P.kwargs) -> Finding:
        if s.buyback is None:
            return Finding(name, "skipped", "no buy-order treasury")
        return check(s, s.buyback, *args, **kwargs)

    run.__name__ = check.__name__
    return run


# --- from accounts and balances ---


@needs_treasury
def revenue_sources_sum_to_total(s: Snapshot, treasury: Buyback) -> Finding:
    name = "revenue-sources-sum-to-total"
    r = treasury.revenue
    summed = r.course_sale + r.subscription + r.other
    problems = [] if summed == r.total else [f"sources sum to {summed} cents, total is {r.total}"]
    return _finding(name, problems, f"{r.total} cents")


@needs_treasury
def revenue_used_within_total(s: Snapshot, treasury: Buyback) -> Finding:
    name = "revenue-used-within-total"
    used, total = treasury.metrics.revenue_used_cents, treasury.revenue.total
    problems = [] if used <= total else [f"used {used} cents of {total}"]
    return _finding(name, problems, f"used {used} of {total} cents")


def escrow_covers_open_budget(s: Snapshot) -> Finding:
    """Every pending order's escrow holds at least its unspent budget."""
    problems = []
    pending = [order for order in s.orders if order.status == "Pending"]
    for order in pending:
        escrow = s.token_account(order.escrow)
        held = 0 if escrow is None else escrow.amount
        remaining = order.quote_budget - order.quote_spent
        if held < remaining:
            problems.append(f"order {order.id}: escrow {order.escrow} holds {held}, open budget is {remaining}")
    return _finding("escrow-covers-open-budget", problems, f"{len(pending)} pending order(s)")


@needs_treasury
def tokens_burned_within_acquired(s: Snapshot, treasury: Buyback) -> Finding:
    name = "tokens-burned-within-acquired"
    m = treasury.metrics
    problems = [] if m.tokens_burned <= m.tokens_acquired else [f"burned {m.tokens_burned} > acquired {m.tokens_acquired}"]
    return _finding(name, problems, f"burned {m.tokens_burned} of {m.tokens_acquired}")


def _closed_orders(treasury: Buyback, s: Snapshot) -> int:
    """Orders opened whose accounts are gone (settled orders close after the retention period)."""
    return treasury.next_order_id - 1 - len(s.orders)


@needs_treasury
def order_counters_match_orders(s: Snapshot, treasury: Buyback) -> Finding:
    """Ids, counters and the order accounts agree. Settled orders may have
    been closed, pending ones never are: every order opened and not yet
    completed, expired or cancelled is a pending account, and no status has
    more accounts than its counter."""
    name = "order-counters-match-orders"
    m = treasury.metrics
    statuses = Counter(order.status for order in s.orders)
    problems = []
    if m.orders_opened != treasury.next_order_id - 1:  # ids start at 1
        problems.append(f"orders_opened is {m.orders_opened}, next_order_id {treasury.next_order_id}")
    strays = [o.id for o in s.orders if not 1 <= o.id < treasury.next_order_id]
    if strays:
        problems.append(f"order account(s) {strays} have ids never handed out (next_order_id {treasury.next_order_id})")
    open_orders = m.orders_opened - m.orders_completed - m.orders_expired - m.orders_cancelled
    if open_orders != statuses["Pending"]:
        problems.append(f"counters leave {open_orders} order(s) open, {statuses['Pending']} pending order account(s)")
    for field, status in (("orders_completed", "Completed"), ("orders_expired", "Expired"), ("orders_cancelled", "Cancelled")):
        stored = getattr(m, field)
        if statuses[status] > stored:
            problems.append(f"{statuses[status]} {status} order account(s), {field} is {stored}")
    return _finding(name, problems, f"{len(s.orders)} order account(s), {_closed_orders(treasury, s)} closed")


@needs_treasury
def order_totals_match_metrics(s: Snapshot, treasury: Buyback) -> Finding:
    """The metrics are the order accounts' sums while every order exists;
    once some are closed the accounts give lower bounds only (the exact
    totals are checked against the history: orders-match-history)."""
    name = "order-totals-match-metrics"
    m = treasury.metrics
    pairs = {
        "revenue_used_cents": (m.revenue_used_cents, sum(o.revenue_used_cents for o in s.orders)),
        "zar_allocated_cents": (m.zar_allocated_cents, sum(o.zar_allocated_cents for o in s.orders)),
        "quote_escrowed": (m.quote_escrowed, sum(o.quote_budget for o in s.orders)),
        "quote_spent": (m.quote_spent, sum(o.quote_spent for o in s.orders)),
        "tokens_acquired": (m.tokens_acquired, sum(o.tokens_acquired for o in s.orders)),
    }
    closed = _closed_orders(treasury, s)
    if closed == 0:
        problems = [f"{field} is {stored}, orders sum to {found}" for field, (stored, found) in pairs.items() if stored != found]
        return _finding(name, problems, ", ".join(f"{field} {stored}" for field, (stored, _) in pairs.items()))
    problems = [
        f"{field} is {stored}, below the {found} the remaining orders sum to"
        for field, (stored, found) in pairs.items()
        if stored < found
    ]
    return _finding(name, problems, f"{closed} order(s) closed: the remaining accounts sum to at most the metrics")


@needs_treasury
def escrowed_quote_accounted(s: Snapshot, treasury: Buyback) -> Finding:
    """Everything escrowed was spent on fills, returned, or is still open."""
    name = "escrowed-quote-accounted"
    m = treasury.metrics
    still_open = sum(o.quote_budget - o.quote_spent for o in s.orders if o.status == "Pending")
    accounted = m.quote_spent + m.quote_returned + still_open
    problems = [] if accounted == m.quote_escrowed else [
        f"escrowed {m.quote_escrowed} != spent {m.quote_spent} + returned {m.quote_returned} + open {still_open}"
    ]
    return _finding(name, problems, f"escrowed {m.quote_escrowed}")


def orders_within_budget(s: Snapshot) -> Finding:
    problems = []
    for o in s.orders:
        if o.quote_spent > o.quote_budget:
            problems.append(f"order {o.id} spent {o.quote_spent} of a {o.quote_budget} budget")
        if o.status == "Completed" and o.quote_spent != o.quote_budget:
            problems.append(f"order {o.id} is completed with {o.quote_budget - o.quote_spent} unspent")
    return _finding("orders-within-budget", problems, f"{len(s.orders)} order(s)")


def vaults_held_by_the_program(s: Snapshot) -> Finding:
    """Each vault and escrow exists, holds the right mint and only the config PDA can move it."""
    config_pda = addresses.config_pda(s.program_id)
    wanted = [
        ("treasury_vault", s.config.treasury_vault, s.config.mint),
        ("reward_vault", s.config.reward_vault, s.config.mint),
        ("buyback_vault", s.config.buyback_vault, s.config.mint),
        ("lock_vault", s.config.lock_vault, s.config.mint),
    ]
    if s.buyback is not None:
        quote = s.buyback.quote_mint
        wanted.append(("quote_vault", s.buyback.quote_vault, quote))
        wanted += [(f"order {o.id} escrow", o.escrow, quote) for o in s.orders]
    problems = []
    for role, address, mint in wanted:
        account = s.token_account(address)
        if account is None:
            problems.append(f"{role} {address} is not an SPL token account")
        elif account.mint != mint:
            problems.append(f"{role} {address} holds mint {account.mint}, expected {mint}")
        elif account.owner != config_pda or account.program_owner != TOKEN_PROGRAM_ID:
            problems.append(f"{role} {address} is owned by {account.owner}, expected the config PDA {config_pda}")
    return _finding("vaults-held-by-the-program", problems, f"{len(wanted)} token account(s)")


@needs_treasury
def proposals_follow_council_rules(s: Snapshot, treasury: Buyback) -> Finding:
    """Each proposal's approvals, quorum, time-lock, execution window and
    settlement follow the council rules. Membership and the threshold are
    checked for proposals of the current council only: older ones (stale since
    a council change) were approved under the council of their day."""
    name = "proposals-follow-council-rules"
    council, params = set(treasury.council), treasury.params
    withdrawable = {treasury.quote_vault, s.config.treasury_vault, s.config.buyback_vault}
    problems = []
    for p in s.proposals:
        if not 1 <= p.id < treasury.next_proposal_id:
            problems.append(f"proposal {p.id} has an id never handed out (next_proposal_id {treasury.next_proposal_id})")
        if len(set(p.approvals)) != len(p.approvals):
            problems.append(f"proposal {p.id} counts an approval twice")
        if isinstance(p.action, Withdraw) and p.action.vault not in withdrawable:
            problems.append(f"proposal {p.id} withdraws from {p.action.vault}, not a vault the council may withdraw from")
        if p.quorum_at == 0:
            if p.executable_at != 0:
                problems.append(f"proposal {p.id} is executable at {p.executable_at} without a quorum")
            if p.status == "Executed":
                problems.append(f"proposal {p.id} was executed without a quorum")
        else:
            if p.executable_at != p.quorum_at + params.timelock_secs:
                problems.append(
                    f"proposal {p.id} executable at {p.executable_at}, not quorum {p.quorum_at} + time-lock {params.timelock_secs} s"
                )
            window_end = p.executable_at + PROPOSAL_EXECUTION_WINDOW_SECS
            if p.status == "Executed" and not p.executable_at <= p.closed_at <= window_end:
                problems.append(
                    f"proposal {p.id} executed at {p.closed_at}, outside its window from {p.executable_at} to {window_end}"
                )
        if (p.status == "Pending") != (p.closed_at == 0):
            problems.append(f"proposal {p.id} is {p.status} with closed_at {p.closed_at}")
        if treasury.is_stale(p.id):
            continue
        strangers = [str(key) for key in p.approvals if key not in council]
        if strangers:
            problems.append(f"proposal {p.id} approved by non-members {', '.join(strangers)}")
        if (len(p.approvals) >= params.approvals_required) != (p.quorum_at != 0):
            problems.append(
                f"proposal {p.id} has {len(p.approvals)} of {params.approvals_required} approvals, quorum_at {p.quorum_at}"
            )
    return _finding(name, problems, f"{len(s.proposals)} proposal account(s)")


def locked_tokens_accounted(s: Snapshot) -> Finding:
    """The locks (locked + unlocking) sum to `total_locked`, and the lock vault holds at least that."""
    name = "locked-tokens-accounted"
    total = s.config.total_locked
    summed = sum(lock.locked + lock.unlocking for lock in s.access_locks)
    problems = [] if summed == total else [f"locks hold {summed} (locked + unlocking), total_locked is {total}"]
    vault = s.token_account(s.config.lock_vault)
    if vault is None:
        problems.append(f"lock vault {s.config.lock_vault} is not an SPL token account")
    elif vault.amount < total:
        problems.append(f"lock vault holds {vault.amount}, the locks are owed {total}")
    held = "missing" if vault is None else vault.amount
    return _finding(name, problems, f"{len(s.access_locks)} lock(s), total_locked {total}, lock vault {held}")


# --- against the event history ---


def requirement_matches_price(s: Snapshot, history: History | None) -> Finding:
    """The stored requirement is what the stored price gives under the params
    (params changed since the last refresh apply at the next one)."""
    name = "requirement-matches-price"
    state, params = s.config.requirement, s.config.requirement_params
    if not state.required:
        return Finding(name, "skipped", "not priced yet")
    expected = params.required(state.price, state.expo, s.config.mint_decimals)
    if expected == state.required:
        return Finding(name, "ok", f"{state.required} units at price {state.price}e{state.expo}")
    if history is None or not history.complete:
        why = "only the complete history shows whether the params changed after the last refresh"
        return Finding(name, "skipped", f"stored {state.required} units, params give {expected}; {why}")
    last = {event.name: position for position, event in enumerate(history.events)}
    if last.get("RequirementParamsUpdated", -1) > last.get("RequirementUpdated", -1):
        return Finding(name, "skipped", f"params changed after the last refresh; the next one gives {expected}")
    return Finding(name, "violated", f"stored {state.required} units, price {state.price}e{state.expo} gives {expected}")


def _mints_above_cap(s: Snapshot, history: History) -> list[str]:
    """TokensMinted events that left the supply above the cap in force then
    (walking back from today's cap through each TokenParamsUpdated)."""
    cap = s.config.token_params.max_supply
    problems = []
    for event in reversed(history.named("TokensMinted", "TokenParamsUpdated")):
        if event.name == "TokenParamsUpdated":
            cap = event.data["old"]["max_supply"]
        elif event.data["supply"] > cap:
            problems.append(f"mint in {event.signature} raised supply to {event.data['supply']} above the cap {cap}")
    return problems


def token_supply_within_cap(s: Snapshot, history: History | None) -> Finding:
    """Only the program mints, and never above the cap in force. The admin may
    lower the cap below the supply later (it stops minting, it burns nothing)."""
    name = "token-supply-within-cap"
    mint = s.mint("token_mint")
    if mint is None:
        return Finding(name, "violated", f"mint {s.config.mint} is not an SPL mint")
    cap = s.config.token_params.max_supply
    authority = addresses.mint_authority_pda(s.program_id)
    if mint.mint_authority not in (None, authority):
        detail = f"mint authority is {mint.mint_authority}, not the program's {authority}: supply is uncapped"
        return Finding(name, "violated", detail)
    if mint.supply <= cap:
        return Finding(name, "ok", f"supply {mint.supply} of {cap}")
    if history is None or not history.complete:
        why = "only the complete history shows whether the cap was lowered after minting"
        return Finding(name, "skipped", f"supply {mint.supply} is above today's cap {cap}; {why}")
    problems = _mints_above_cap(s, history)
    if not any(e.data["new"]["max_supply"] < e.data["old"]["max_supply"] for e in history.named("TokenParamsUpdated")):
        problems.append(f"supply {mint.supply} is above the cap {cap}, which was never lowered")
    return _finding(name, problems, f"supply {mint.supply}, cap lowered to {cap} after minting")


def fee_counters_match_history(s: Snapshot, history: History) -> Finding:
    counts: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for event in history.named("FeePaid"):
        counts[event.data["service"]] += 1
        totals[event.data["service"]] += event.data["amount"]
    problems = []
    for service in s.fee_schedule or []:
        if (service.count, service.total) != (counts[service.name], totals[service.name]):
            problems.append(
                f"{service.name}: counters {service.count} / {service.total}, "
                f"history {counts[service.name]} / {totals[service.name]}"
            )
    known = {service.name for service in s.fee_schedule or []}
    problems += [f"fees paid for {name}, which the schedule does not hold" for name in counts if name not in known]
    return _finding("fee-counters-match-history", problems, f"{sum(counts.values())} fee payment(s)")


@needs_treasury
def revenue_matches_history(s: Snapshot, treasury: Buyback, history: History) -> Finding:
    name = "revenue-matches-history"
    batches = history.named("RevenueReported")
    summed: Counter[str] = Counter()
    for event in batches:
        summed.update(event.data["batch"])
    problems = []
    if treasury.last_batch_seq != len(batches):
        problems.append(f"last_batch_seq {treasury.last_batch_seq}, {len(batches)} batch(es) in history")
    for field, stored in vars(treasury.revenue).items():
        if stored != summed[field]:
            problems.append(f"{field} is {stored} cents, batches sum to {summed[field]}")
    return _finding(name, problems, f"{len(batches)} batch(es)")


@needs_treasury
def fills_match_history(s: Snapshot, treasury: Buyback, history: History) -> Finding:
    name = "fills-match-history"
    fills = history.named("BuyOrderFilled")
    m = treasury.metrics
    pairs = {
        "tokens_acquired": (m.tokens_acquired, sum(e.data["tokens"] for e in fills)),
        "quote_spent": (m.quote_spent, sum(e.data["quote_paid"] for e in fills)),
        "tokens_burned": (m.tokens_burned, sum(e.data["tokens"] for e in fills if e.data["burned"])),
        "quote_returned": (m.quote_returned, sum(e.data["quote_returned"] for e in history.named("BuyOrderClosed"))),
    }
    problems = [f"{field} is {stored}, events give {found}" for field, (stored, found) in pairs.items() if stored != found]
    return _finding(name, problems, f"{len(fills)} fill(s)")


def rewards_match_history(s: Snapshot, history: History) -> Finding:
    paid = sum(event.data["amount"] for event in history.named("RewardPaid"))
    stored = s.config.rewards.paid_total
    problems = [] if stored == paid else [f"paid_total {stored}, reward events sum to {paid}"]
    return _finding("rewards-match-history", problems, f"{paid} units paid")


def _closed_accounts(history: History) -> set[str]:
    """Accounts the program closed (settled records past their retention)."""
    return {event.data["account"] for event in history.named("AccountClosed")}


@needs_treasury
def orders_match_history(s: Snapshot, treasury: Buyback, history: History) -> Finding:
    """Every order opened is an account unless an AccountClosed event closed
    it; counters and totals are what the order events give; each remaining
    order holds what its events say."""
    name = "orders-match-history"
    m = treasury.metrics
    opened = {event.data["id"]: event.data for event in history.named("BuyOrderOpened")}
    fills = history.named("BuyOrderFilled")
    closes = history.named("BuyOrderClosed")
    gone = _closed_accounts(history)
    closed_ids = {i for i in opened if str(addresses.order_pda(i, s.program_id)) in gone}
    problems = []
    accounts = {o.id for o in s.orders}
    expected = set(opened) - closed_ids
    if accounts != expected:
        problems.append(
            f"order accounts {sorted(accounts - expected)} without events, {sorted(expected - accounts)} opened and never closed"
        )
    pairs = {
        "orders_opened": (m.orders_opened, len(opened)),
        "orders_completed": (m.orders_completed, sum(e.data["status"] == "Completed" for e in fills)),
        "orders_expired": (m.orders_expired, sum(e.data["status"] == "Expired" for e in closes)),
        "orders_cancelled": (m.orders_cancelled, sum(e.data["status"] == "Cancelled" for e in closes)),
        "revenue_used_cents": (m.revenue_used_cents, sum(o["revenue_used_cents"] for o in opened.values())),
        "zar_allocated_cents": (m.zar_allocated_cents, sum(o["zar_allocated_cents"] for o in opened.values())),
        "quote_escrowed": (m.quote_escrowed, sum(o["quote_budget"] for o in opened.values())),
    }
    problems += [f"{field} is {stored}, events give {found}" for field, (stored, found) in pairs.items() if stored != found]
    spent: Counter[int] = Counter()
    bought: Counter[int] = Counter()
    for event in fills:
        spent[event.data["id"]] += event.data["quote_paid"]
        bought[event.data["id"]] += event.data["tokens"]
    for o in s.orders:
        opening = opened.get(o.id)
        if opening is not None and (o.quote_budget, o.zar_allocated_cents) != (opening["quote_budget"], opening["zar_allocated_cents"]):
            problems.append(f"order {o.id} budget {o.quote_budget} / {o.zar_allocated_cents} cents, opened with "
                            f"{opening['quote_budget']} / {opening['zar_allocated_cents']}")
        if (o.quote_spent, o.tokens_acquired) != (spent[o.id], bought[o.id]):
            problems.append(f"order {o.id} spent {o.quote_spent} for {o.tokens_acquired}, its fills {spent[o.id]} for {bought[o.id]}")
    return _finding(name, problems, f"{len(opened)} order(s) opened, {len(closed_ids)} closed")


def proposals_match_history(s: Snapshot, history: History) -> Finding:
    """Every proposal created is an account unless an AccountClosed event
    closed it, and each remaining one has the status its events give."""
    created = [event.data["id"] for event in history.named("ProposalCreated")]
    gone = _closed_accounts(history)
    closed_ids = {i for i in created if str(addresses.proposal_pda(i, s.program_id)) in gone}
    settled = {e.data["id"]: "Executed" for e in history.named("ProposalExecuted")}
    settled.update({e.data["id"]: "Cancelled" for e in history.named("ProposalCancelled")})
    accounts = {p.id for p in s.proposals}
    expected = set(created) - closed_ids
    problems = [] if accounts == expected else [
        f"proposal accounts {sorted(accounts - expected)} without events, {sorted(expected - accounts)} created and never closed"
    ]
    problems += [
        f"proposal {p.id} is {p.status}, its events say {settled.get(p.id, 'Pending')}"
        for p in s.proposals
        if p.status != settled.get(p.id, "Pending")
    ]
    return _finding("proposals-match-history", problems, f"{len(created)} proposal(s) created, {len(closed_ids)} closed")


def locks_match_history(s: Snapshot, history: History) -> Finding:
    """Each wallet's lock (locked + unlocking) is what it locked less what it
    withdrew; a wallet with nothing left has no lock account."""
    net: Counter[str] = Counter()
    for event in history.named("TokensLocked", "TokensUnlocked"):
        net[event.data["wallet"]] += event.data["amount"] if event.name == "TokensLocked" else -event.data["amount"]
    held = {str(lock.wallet): lock.locked + lock.unlocking for lock in s.access_locks}
    expected = {wallet: amount for wallet, amount in net.items() if amount != 0}
    problems = [
        f"wallet {wallet}: lock holds {held.get(wallet, 0)}, events give {expected.get(wallet, 0)}"
        for wallet in sorted(set(held) | set(expected))
        if held.get(wallet) != expected.get(wallet)
    ]
    return _finding("locks-match-history", problems, f"{len(held)} lock(s), {len(net)} wallet(s) ever locked")


def wallet_links_match_history(s: Snapshot, history: History) -> Finding:
    linked = {e.data["wallet"] for e in history.named("WalletLinked")}
    live: set[str] = set()
    for event in history.named("WalletLinked", "WalletUnlinked"):
        (live.add if event.name == "WalletLinked" else live.discard)(event.data["wallet"])
    accounts = {str(link.wallet) for link in s.wallet_links}
    problems = [] if accounts == live else [
        f"link accounts {sorted(accounts - live)} without events, events {sorted(live - accounts)} without accounts"
    ]
    return _finding("wallet-links-match-history", problems, f"{len(accounts)} link(s), {len(linked)} ever linked")


SNAPSHOT_CHECKS: tuple[Callable[[Snapshot], Finding], ...] = (
    revenue_sources_sum_to_total,
    revenue_used_within_total,
    escrow_covers_open_budget,
    tokens_burned_within_acquired,
    order_counters_match_orders,
    order_totals_match_metrics,
    escrowed_quote_accounted,
    orders_within_budget,
    vaults_held_by_the_program,
    proposals_follow_council_rules,
    locked_tokens_accounted,
)
HISTORY_CHECKS: tuple[Callable[[Snapshot, History], Finding], ...] = (
    fee_counters_match_history,
    revenue_matches_history,
    fills_match_history,
    orders_match_history,
    proposals_match_history,
    locks_match_history,
    rewards_match_history,
    wallet_links_match_history,
)


def check(snapshot: Snapshot, history: History | None) -> Iterator[Finding]:
    """Every invariant; history checks are skipped without a complete history."""
    for snapshot_check in SNAPSHOT_CHECKS:
        yield snapshot_check(snapshot)
    yield token_supply_within_cap(snapshot, history)
    yield requirement_matches_price(snapshot, history)
    for history_check in HISTORY_CHECKS:
        name = history_check.__name__.replace("_", "-")
        if history is None:
            yield Finding(name, "skipped", "history not read (--no-history)")
        elif not history.complete:
            yield Finding(name, "skipped", "history does not reach back to initialize (pruned RPC or state loaded from files)")
        else:
            yield history_check(snapshot, history)
