"""Decoded program accounts, with the slot they were read at."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Generic, TypeVar

from solders.pubkey import Pubkey

T = TypeVar("T")
D = TypeVar("D")


def from_fields(cls: type[D], raw: Any) -> D:
    """Build dataclass `cls` from the same-named attributes of an anchorpy-decoded struct."""
    return cls(**{name: getattr(raw, name) for name in cls.__dataclass_fields__})  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DataAndSlot(Generic[T]):
    data: T
    slot: int


@dataclass(frozen=True)
class Authorities:
    admin: Pubkey
    guardian: Pubkey
    keeper: Pubkey
    fee_collector: Pubkey
    rewarder: Pubkey

    @classmethod
    def decode(cls, raw: Any) -> Authorities:
        return from_fields(cls, raw)

    @classmethod
    def all_but_guardian(cls, key: Pubkey, guardian: Pubkey) -> Authorities:
        """Every role but the guardian held by one key (local setups); the
        program refuses an admin that is also the guardian."""
        return cls(key, guardian, key, key, key)


NO_FEED = bytes(32)


@dataclass(frozen=True)
class RequirementParams:
    """Mirrors `RequirementParams` in programs/aistm7/src/state/requirement.rs;
    the defaults are the program's (constants.rs)."""

    target_usd_micros: int = 15_000_000
    min_tokens: int = 100
    max_tokens: int = 10_000
    update_threshold_bps: int = 100
    min_update_interval_secs: int = 60
    pass_validity_secs: int = 3_600
    unlock_cooldown_secs: int = 86_400

    @classmethod
    def decode(cls, raw: Any) -> RequirementParams:
        return from_fields(cls, raw)

    def required(self, price: int, expo: int, decimals: int) -> int:
        """What `refresh_requirement` stores for `price * 10^expo` USD a token:
        the target in base units rounded up, clamped to [min, max] whole tokens
        (programs/aistm7/src/math.rs `tokens_for_usd`)."""
        shift = decimals - 6 - expo
        numerator: int = self.target_usd_micros * 10 ** max(shift, 0)
        denominator: int = price * 10 ** max(-shift, 0)
        units = -(-numerator // denominator)
        whole: int = 10**decimals
        return min(max(units, self.min_tokens * whole), self.max_tokens * whole)


@dataclass(frozen=True)
class OracleParams:
    primary_feed_id: bytes
    backup_feed_id: bytes = NO_FEED
    max_price_age_secs: int = 60
    max_confidence_bps: int = 200
    max_ema_divergence_bps: int = 500
    max_feed_divergence_bps: int = 200

    @classmethod
    def decode(cls, raw: Any) -> OracleParams:
        params = from_fields(cls, raw)
        return replace(params, primary_feed_id=bytes(params.primary_feed_id), backup_feed_id=bytes(params.backup_feed_id))


@dataclass(frozen=True)
class RequirementOverride:
    amount: int
    expires_at: int


@dataclass(frozen=True)
class RequirementState:
    required: int
    price: int
    expo: int
    publish_time: int
    posted_slot: int
    source: str
    updated_at: int
    breaker_tripped: bool
    emergency_override: RequirementOverride | None
    primary_publish_time: int
    backup_publish_time: int
    """Publish times of the newest primary and backup updates a refresh used:
    an older update of either feed is refused."""

    @classmethod
    def decode(cls, raw: Any) -> RequirementState:
        override = raw.emergency_override
        return cls(
            required=raw.required,
            price=raw.price,
            expo=raw.expo,
            publish_time=raw.publish_time,
            posted_slot=raw.posted_slot,
            source=type(raw.source).__name__,
            updated_at=raw.updated_at,
            breaker_tripped=raw.breaker_tripped,
            emergency_override=None if override is None else RequirementOverride(override.amount, override.expires_at),
            primary_publish_time=raw.primary_publish_time,
            backup_publish_time=raw.backup_publish_time,
        )

    def effective(self, now: int) -> int | None:
        """What `verify_access` requires at cluster time `now` (None: not priced yet)."""
        if self.emergency_override is not None and now < self.emergency_override.expires_at:
            return self.emergency_override.amount
        return self.required or None


DEFAULT_DECIMALS = 8
TOKEN: int = 10**DEFAULT_DECIMALS
"""Base units per whole token at the default 8 decimals."""

RECORD_RETENTION_SECS = 7 * 86_400
"""Settled orders, settled proposals and charge receipts can be closed this
long after they settled (programs/aistm7/src/constants.rs)."""
PROPOSAL_EXECUTION_WINDOW_SECS = 14 * 86_400
"""An approved proposal can be executed this long after its time-lock ends, no later."""


MAX_SUPPLY_TOKENS = 1_000_000_000
REWARD_DAILY_CAP_TOKENS = 10_000


@dataclass(frozen=True)
class TokenParams:
    """Mirrors `TokenParams` (base units); the defaults are for 8 decimals,
    `for_decimals` gives the same whole-token amounts for any mint."""

    max_supply: int = MAX_SUPPLY_TOKENS * TOKEN
    reward_daily_cap: int = REWARD_DAILY_CAP_TOKENS * TOKEN

    @classmethod
    def decode(cls, raw: Any) -> TokenParams:
        return from_fields(cls, raw)

    @classmethod
    def for_decimals(cls, decimals: int) -> TokenParams:
        """The default max supply and daily reward cap in base units of a
        mint with `decimals`."""
        unit = token_units(decimals)
        return cls(max_supply=MAX_SUPPLY_TOKENS * unit, reward_daily_cap=REWARD_DAILY_CAP_TOKENS * unit)


@dataclass(frozen=True)
class TokenInfo:
    """Name (at most 32 bytes) and symbol (at most 10) the program records."""

    name: str = "AISTM7"
    symbol: str = "AISTM7"

    @classmethod
    def decode(cls, raw: Any) -> TokenInfo:
        return from_fields(cls, raw)


@dataclass(frozen=True)
class RewardLedger:
    day: int
    paid_today: int
    paid_total: int

    @classmethod
    def decode(cls, raw: Any) -> RewardLedger:
        return from_fields(cls, raw)


@dataclass(frozen=True)
class Config:
    version: int
    authorities: Authorities
    mint: Pubkey
    treasury_vault: Pubkey
    reward_vault: Pubkey
    buyback_vault: Pubkey
    lock_vault: Pubkey
    mint_decimals: int
    paused: bool
    requirement_params: RequirementParams
    oracle_params: OracleParams
    requirement: RequirementState
    token_params: TokenParams
    token_info: TokenInfo
    rewards: RewardLedger
    total_locked: int
    """Token base units in every `AccessLock` (locked and unlocking)."""

    @classmethod
    def decode(cls, raw: Any) -> Config:
        return cls(
            version=raw.version,
            authorities=Authorities.decode(raw.authorities),
            mint=raw.mint,
            treasury_vault=raw.treasury_vault,
            reward_vault=raw.reward_vault,
            buyback_vault=raw.buyback_vault,
            lock_vault=raw.lock_vault,
            mint_decimals=raw.mint_decimals,
            paused=raw.paused,
            requirement_params=RequirementParams.decode(raw.requirement_params),
            oracle_params=OracleParams.decode(raw.oracle_params),
            requirement=RequirementState.decode(raw.requirement),
            token_params=TokenParams.decode(raw.token_params),
            token_info=TokenInfo.decode(raw.token_info),
            rewards=RewardLedger.decode(raw.rewards),
            total_locked=raw.total_locked,
        )


@dataclass(frozen=True)
class ServiceTerms:
    cost: int
    active: bool
    valid_from: int
    valid_to: int
    """0: no end."""

    @classmethod
    def decode(cls, raw: Any) -> ServiceTerms:
        return from_fields(cls, raw)


@dataclass(frozen=True)
class ServiceFee:
    name: str
    terms: ServiceTerms
    count: int
    total: int

    @classmethod
    def decode(cls, raw: Any) -> ServiceFee:
        return cls(raw.name, ServiceTerms.decode(raw.terms), raw.count, raw.total)


DEFAULT_SERVICE_FEES = {
    "search": Decimal("0.1"),
    "goal": Decimal("1"),
    "analysis": Decimal("0.5"),
    "notification": Decimal("0.05"),
}
"""The services deploy puts in the schedule, priced in whole tokens."""

MAX_DECIMALS = 9
"""Most mint decimals deploy accepts: the default supply of 1,000,000,000
tokens is 10^(9 + decimals) base units, which the program's u64 amounts hold
up to 10 decimals; 9 leaves the council room to raise the max supply and is
also SOL's and the usual SPL maximum."""
MIN_DECIMALS = next(
    decimals
    for decimals in range(MAX_DECIMALS + 1)
    if all(fee.scaleb(decimals) % 1 == 0 for fee in DEFAULT_SERVICE_FEES.values())
)
"""Fewest mint decimals deploy accepts (2): every default fee must be a whole
number of base units, and 0.05 token needs 2 decimals. Rounding a fee instead
would make it free or change its price."""


def check_decimals(decimals: int) -> None:
    """Raise ValueError unless deploy's defaults (fee schedule, supply) are
    exact at `decimals` base-unit places: see `MIN_DECIMALS` and `MAX_DECIMALS`."""
    if not MIN_DECIMALS <= decimals <= MAX_DECIMALS:
        raise ValueError(
            f"{decimals} decimals is not in {MIN_DECIMALS}..{MAX_DECIMALS}: below {MIN_DECIMALS} a default fee "
            f"(0.05 token) is not a whole number of base units, above {MAX_DECIMALS} the default supply of "
            f"{MAX_SUPPLY_TOKENS:,} tokens leaves too little room in a u64"
        )


def token_units(decimals: int) -> int:
    """Base units per whole token of a mint with `decimals` (which `check_decimals` accepts)."""
    check_decimals(decimals)
    unit: int = 10**decimals
    return unit


def default_services(decimals: int) -> dict[str, int]:
    """`DEFAULT_SERVICE_FEES` in base units of a mint with `decimals`."""
    unit = token_units(decimals)
    return {name: int(fee * unit) for name, fee in DEFAULT_SERVICE_FEES.items()}


DEFAULT_SERVICES = default_services(DEFAULT_DECIMALS)
"""`default_services` at the default 8 decimals."""


@dataclass(frozen=True)
class WalletLink:
    wallet: Pubkey
    user_ref: bytes
    linked_at: int

    @classmethod
    def decode(cls, raw: Any) -> WalletLink:
        return cls(raw.wallet, bytes(raw.user_ref), raw.linked_at)


@dataclass(frozen=True)
class AccessLock:
    """Tokens `wallet` locked for access: `locked` counts toward it,
    `unlocking` no longer does and can be withdrawn from `unlock_at`."""

    wallet: Pubkey
    locked: int
    unlocking: int
    unlock_at: int

    @classmethod
    def decode(cls, raw: Any) -> AccessLock:
        return from_fields(cls, raw)

    def withdrawable(self, now: int) -> int:
        """What `withdraw_unlocked` would return at cluster time `now`."""
        return self.unlocking if self.unlocking and now >= self.unlock_at else 0


@dataclass(frozen=True)
class BuybackParams:
    """Mirrors `BuybackParams`; `quote_units_per_zar` set = a ZAR stablecoin
    at that fixed rate, None = a USD stablecoin priced through the USD/ZAR feed.
    `token_feed_id`, the token's USD feed orders are priced with, is fixed for
    the treasury's lifetime."""

    token_feed_id: bytes
    usd_zar_feed_id: bytes
    quote_units_per_zar: int | None = None
    allocation_bps: int = 1_000
    min_allocation_cents: int = 10_000
    max_allocation_cents: int = 100_000_000
    max_slippage_bps: int = 100
    order_ttl_secs: int = 86_400
    daily_spend_cap: int = 2**64 - 1
    burn_on_fill: bool = True
    direct_withdraw_limit: int = 0
    timelock_secs: int = 172_800
    approvals_required: int = 1

    @classmethod
    def decode(cls, raw: Any) -> BuybackParams:
        rate = raw.quote_rate
        values = {name: getattr(raw, name) for name in cls.__dataclass_fields__ if hasattr(raw, name)}
        values["token_feed_id"] = bytes(raw.token_feed_id)
        values["usd_zar_feed_id"] = bytes(raw.usd_zar_feed_id)
        values["quote_units_per_zar"] = getattr(rate, "quote_units_per_zar", None)
        return cls(**values)


@dataclass(frozen=True)
class RevenueTotals:
    course_sale: int
    subscription: int
    other: int
    total: int

    @classmethod
    def decode(cls, raw: Any) -> RevenueTotals:
        return from_fields(cls, raw)


REVENUE_BATCH_DISCRIMINATOR = hashlib.sha256(b"account:RevenueBatch").digest()[:8]
_REVENUE_BATCH = struct.Struct("<8sQ32s4QQqQB")


@dataclass(frozen=True)
class RevenueBatch:
    """A reported revenue batch: the root of its Merkle-sum tree and the
    sums that root carries, as the program stored them. The program creates
    the account itself (after its sequence checks), so the IDL does not list
    it; its layout (README, "Proof of revenue") is read here."""

    batch_seq: int
    root: bytes
    totals: RevenueTotals
    events: int
    reported_at: int
    slot: int

    @classmethod
    def parse(cls, data: bytes) -> RevenueBatch:
        if len(data) < _REVENUE_BATCH.size or data[:8] != REVENUE_BATCH_DISCRIMINATOR:
            raise ValueError("not a RevenueBatch account")
        _, seq, root, course_sale, subscription, other, total, events, reported_at, slot, _ = _REVENUE_BATCH.unpack_from(data)
        return cls(seq, root, RevenueTotals(course_sale, subscription, other, total), events, reported_at, slot)

    @property
    def sums(self) -> tuple[int, int, int, int]:
        """The root's sums, as `keeper.revenue_tree` orders them."""
        return (self.totals.course_sale, self.totals.subscription, self.totals.other, self.events)


@dataclass(frozen=True)
class BuybackMetrics:
    revenue_used_cents: int
    zar_allocated_cents: int
    quote_escrowed: int
    quote_spent: int
    quote_returned: int
    tokens_acquired: int
    tokens_burned: int
    orders_opened: int
    orders_completed: int
    orders_expired: int
    orders_cancelled: int
    last_execution_at: int

    @classmethod
    def decode(cls, raw: Any) -> BuybackMetrics:
        return from_fields(cls, raw)


@dataclass(frozen=True)
class Buyback:
    quote_mint: Pubkey
    quote_decimals: int
    quote_vault: Pubkey
    params: BuybackParams
    council: list[Pubkey]
    last_batch_seq: int
    revenue: RevenueTotals
    metrics: BuybackMetrics
    spent_today: int
    withdraw_day: int
    withdrawn_today: int
    """Direct quote withdrawals on UTC day `withdraw_day`."""
    last_token_publish_time: int
    last_fx_publish_time: int
    """Publish times of the newest price updates the treasury used."""
    next_order_id: int
    next_proposal_id: int
    proposals_stale_through: int
    """Proposals up to this id were made for an earlier council: they can no longer pass."""

    @property
    def available_cents(self) -> int:
        return self.revenue.total - self.metrics.revenue_used_cents

    @classmethod
    def decode(cls, raw: Any) -> Buyback:
        return cls(
            quote_mint=raw.quote_mint,
            quote_decimals=raw.quote_decimals,
            quote_vault=raw.quote_vault,
            params=BuybackParams.decode(raw.params),
            council=list(raw.council),
            last_batch_seq=raw.last_batch_seq,
            revenue=RevenueTotals.decode(raw.revenue),
            metrics=BuybackMetrics.decode(raw.metrics),
            spent_today=raw.spent_today,
            withdraw_day=raw.withdraw_day,
            withdrawn_today=raw.withdrawn_today,
            last_token_publish_time=raw.last_token_publish_time,
            last_fx_publish_time=raw.last_fx_publish_time,
            next_order_id=raw.next_order_id,
            next_proposal_id=raw.next_proposal_id,
            proposals_stale_through=raw.proposals_stale_through,
        )

    def is_stale(self, proposal_id: int) -> bool:
        return proposal_id <= self.proposals_stale_through


@dataclass(frozen=True)
class BuyOrder:
    id: int
    zar_allocated_cents: int
    revenue_used_cents: int
    quote_budget: int
    quote_spent: int
    tokens_acquired: int
    limit_price: int
    created_at: int
    expires_at: int
    status: str
    closed_at: int
    """When it left Pending; 0 while pending."""
    escrow: Pubkey
    payer: Pubkey
    """Paid the rent of the order and its escrow, and gets it back on close."""

    @classmethod
    def decode(cls, raw: Any) -> BuyOrder:
        values = {name: getattr(raw, name) for name in cls.__dataclass_fields__}
        values["status"] = type(raw.status).__name__
        return cls(**values)


@dataclass(frozen=True)
class Withdraw:
    """Move `amount` out of a program vault (quote vault, token treasury or
    buy-back vault) to `destination`, a token account of the vault's mint."""

    vault: Pubkey
    destination: Pubkey
    amount: int


@dataclass(frozen=True)
class SetCouncil:
    """Replace the council and its threshold; pending proposals go stale."""

    members: list[Pubkey]
    approvals_required: int


@dataclass(frozen=True)
class SetMaxSupply:
    """Raise the token's maximum supply (the admin alone can only lower it)."""

    max_supply: int


@dataclass(frozen=True)
class SetGuardian:
    """Replace a lost or compromised guardian (never with the admin's key)."""

    guardian: Pubkey


ProposalAction = Withdraw | SetCouncil | SetMaxSupply | SetGuardian
_ACTIONS: dict[str, type[ProposalAction]] = {
    "Withdraw": Withdraw,
    "SetCouncil": SetCouncil,
    "SetMaxSupply": SetMaxSupply,
    "SetGuardian": SetGuardian,
}


def decode_action(raw: Any) -> ProposalAction:
    """A `ProposalAction` as anchorpy decodes it (an enum variant object)."""
    action = _ACTIONS[type(raw).__name__]
    values = {name: getattr(raw, name) for name in action.__dataclass_fields__}
    if action is SetCouncil:
        values["members"] = list(raw.members)
    return action(**values)


@dataclass(frozen=True)
class Proposal:
    """A council proposal: the time-lock runs from `quorum_at`, the approval
    that reached the threshold (`quorum_at` and `executable_at` are 0 before)."""

    id: int
    action: ProposalAction
    proposer: Pubkey
    approvals: list[Pubkey]
    created_at: int
    quorum_at: int
    executable_at: int
    status: str
    closed_at: int
    """When it was executed or cancelled; 0 while pending."""

    @classmethod
    def decode(cls, raw: Any) -> Proposal:
        values = {name: getattr(raw, name) for name in cls.__dataclass_fields__}
        values["action"] = decode_action(raw.action)
        values["approvals"] = list(raw.approvals)
        values["status"] = type(raw.status).__name__
        return cls(**values)
