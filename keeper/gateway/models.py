"""The gateway's request and response types; the OpenAPI document
(`/v1/openapi.json`) is generated from them."""

from __future__ import annotations

from typing import Any, Generic, Literal, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

Units = Field(description="Token base units (the mint's decimals apply)")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid_wallet`, `rate_limited`")
    message: str = Field(description="For people; may change")
    param: Optional[str] = Field(None, description="The request field at fault, when there is one")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Override(BaseModel):
    units: int
    expires_at: int


class RequirementRules(BaseModel):
    target_usd_micros: int = Field(description="The USD value a holder must lock, in micro-USD")
    min_tokens: int
    max_tokens: int
    update_threshold_bps: int = Field(description="The price move that re-prices the requirement")
    min_update_interval_secs: int = Field(description="The least time between two re-pricings")
    pass_validity_secs: int
    unlock_cooldown_secs: int


class Requirement(BaseModel):
    slot: int = Field(description="The slot the accounts were read at")
    cluster_time: int
    effective_units: Optional[int] = Field(description="Tokens a wallet must lock now (None before the first pricing)")
    effective_tokens: Optional[str]
    set_by: Literal["price", "override", "nothing yet"]
    computed_units: int = Field(description="The requirement the last price set")
    price: int
    expo: int
    price_usd: Optional[str]
    source: str = Field(description="The feed that set the price: Primary, Backup, or None before the first pricing")
    publish_time: int
    price_age_secs: Optional[int]
    updated_at: int
    breaker_tripped: bool
    paused: bool
    override: Optional[Override]
    params: RequirementRules = Field(description="The program's requirement parameters")


class Access(BaseModel):
    slot: int = Field(description="The slot the wallet's lock and the config were read at")
    cluster_time: int
    wallet: str
    has_access: bool = Field(description="What `verify_access` answers now: not paused and locked >= required")
    locked_units: int
    locked_tokens: str
    unlocking_units: int
    unlocking_tokens: str
    unlock_at: Optional[int]
    required_units: Optional[int]
    required_tokens: Optional[str]
    paused: bool
    requirement: Requirement


class Fee(BaseModel):
    name: str
    cost_units: int
    cost_tokens: str
    active: bool
    payable_now: bool
    valid_from: int
    valid_to: Optional[int]
    count: int
    total_units: int


class Fees(BaseModel):
    slot: int
    cluster_time: int
    data: list[Fee]


class Page(BaseModel, Generic[T]):
    """A page of a list that grows: pass `next_cursor` as `starting_after` for the next page."""

    data: list[T]
    has_more: bool
    next_cursor: Optional[int]


class BuyOrder(BaseModel):
    id: int
    status: str
    zar_allocated_cents: int
    revenue_used_cents: int
    quote_budget: int
    quote_spent: int
    tokens_acquired: int
    limit_price: int
    created_at: int
    expires_at: int
    closed_at: int


class RevenueTotals(BaseModel):
    course_sale: int
    subscription: int
    other: int
    total: int


class RevenueBatch(BaseModel):
    batch_seq: int
    root: str = Field(description="The batch's Merkle-sum root, hex")
    totals_cents: RevenueTotals
    events: int
    reported_at: int
    slot: int


class RevenueSummary(BaseModel):
    slot: int
    revenue_cents: RevenueTotals = Field(description="ZAR cents reported on-chain per source")
    available_cents: int = Field(description="Reported revenue not yet used for buy-orders")
    last_batch_seq: int
    batches: Page[RevenueBatch] = Field(description="Reported batches, newest first")


class ChargeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wallet: str = Field(description="The paying wallet (base58); it must have approved the fee delegate")
    service: str = Field(description="A service of the fee schedule, e.g. `search`")
    request_id: str = Field(description="Your id for this request (1-128 of A-Z a-z 0-9 . _ : -): a retry returns the first result")
    token_account: Optional[str] = Field(None, description="The wallet's token account to charge; default its associated one")


class ChargeError(BaseModel):
    code: str
    message: Optional[str]


class Charge(BaseModel):
    request_id: str
    merchant: str
    wallet: str
    service: str
    token_account: str
    status: Literal["pending", "succeeded", "failed"]
    amount_units: Optional[int]
    signature: Optional[str] = Field(description="The transaction that charged (None when another of this request's landed)")
    slot: Optional[int]
    error: Optional[ChargeError] = Field(description="Why the program refused it (failed charges)")
    created_ms: int
    completed_ms: Optional[int]


class FailedCharge(ErrorBody):
    charge: Charge


EventType = Literal[
    "requirement.updated", "access.changed", "charge.succeeded", "charge.failed", "buy_order.opened",
    "buy_order.filled", "buy_order.closed", "revenue.batch_committed", "alert.price_moved", "webhook.test",
]


class Event(BaseModel):
    id: str = Field(description="Stable across deliveries and processes: de-duplicate by it")
    seq: int = Field(description="Position in the gateway's event log (resume cursor)")
    type: EventType
    created_ms: int
    slot: Optional[int]
    signature: Optional[str] = Field(description="The transaction whose logs carried it (None for charge.failed)")
    block_time: Optional[int]
    data: dict[str, Any] = Field(description="The program event's fields (`event` names it) or the failed charge")


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http(s) URL deliveries are POSTed to", max_length=2048)
    events: list[EventType] = Field(min_length=1, max_length=len(EventType.__args__), description="The event types to deliver")  # type: ignore[attr-defined]


class Webhook(BaseModel):
    id: int
    url: str
    events: list[str]
    created_ms: int


class NewWebhook(Webhook):
    secret: str = Field(description="Signs deliveries (X-Signature: t=..,v1=..); shown this once")


class Attempt(BaseModel):
    attempt: int
    at_ms: int
    status_code: Optional[int]
    latency_ms: int
    error: Optional[str]


class Delivery(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt_ms: int
    created_ms: int
    completed_ms: Optional[int]
    last_status: Optional[int]
    last_error: Optional[str]
    last_latency_ms: Optional[int]
    tries: list[Attempt]


class Replayed(BaseModel):
    delivery_id: int = Field(description="The new delivery of the same event")


class Me(BaseModel):
    key_id: str
    merchant: str
    label: str
    scopes: list[str] = Field(description="read, charge, admin (admin holds the other two)")
    token_decimals: int = Field(description="The token mint's decimals (amounts are in base units)")


class ApiKey(BaseModel):
    key_id: str
    merchant: str
    label: str
    scopes: list[str]
    rate_per_sec: int
    burst: int
    created_at: int
    revoked_at: Optional[int]


class NewApiKey(ApiKey):
    api_key: str = Field(description="`agw_<key_id>_<secret>`: shown this once, only its hash is kept")


class ApiKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[Literal["read", "charge", "admin"]] = Field(min_length=1, max_length=3)
    label: str = Field("", max_length=128, pattern="^[^\\x00-\\x1f\\x7f]*$", description="No control characters")
    rate_per_sec: Optional[int] = Field(None, ge=1, le=10_000, description="Requests a second (default and most: the creating key's)")
    burst: Optional[int] = Field(None, ge=1, le=100_000, description="Requests at once (default and most: the creating key's)")


class TestSent(BaseModel):
    delivery_id: int = Field(description="The test event's delivery: follow it in the delivery log")
    event_id: str


class ServiceTotal(BaseModel):
    service: str
    status: str
    charges: int
    amount_units: int


class ChargeTotals(BaseModel):
    data: list[ServiceTotal]


class Treasury(BaseModel):
    slot: int
    cluster_time: int
    quote_mint: str
    quote_decimals: int
    quote_vault: str
    quote_vault_balance: Optional[int] = Field(description="The quote vault's balance (None when the account is missing)")
    token_decimals: int
    revenue_cents: RevenueTotals
    available_cents: int
    metrics: dict[str, int] = Field(description="The treasury's lifetime counters: orders, quote escrowed/spent/returned, tokens acquired/burned")
    average_price: Optional[str] = Field(description="Quote paid per whole token over every fill (None before the first)")


class RevenueDay(BaseModel):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    course_sale: int
    subscription: int
    other: int
    total: int
    batches: int


class RevenueDaily(BaseModel):
    data: list[RevenueDay] = Field(description="ZAR cents reported per source and UTC day (of the block), oldest first")


class KeeperJob(BaseModel):
    runs: int
    errors: int
    seconds_since_success: Optional[float] = Field(description="None before its first success")


class KeeperJournal(BaseModel):
    last_confirmed_batch: Optional[int] = None
    pending_batch: Optional[int] = None
    pending_batch_age_secs: Optional[float] = None
    backlog_events: int = 0
    oldest_unpushed_age_secs: Optional[float] = None
    quarantined_events: int = 0
    oldest_quarantined_age_secs: Optional[float] = None


class KeeperView(BaseModel):
    """The keeper's health as merchants may see it: its verdict, journal
    position and jobs' counters, never its texts (its reasons and errors can
    quote RPC URLs, which may hold a provider's key, and file paths)."""

    reachable: bool = Field(description="Whether the keeper answered /health")
    ok: Optional[bool] = Field(description="The keeper's verdict (None when it did not answer); why is in its own /health")
    rpc_reachable: Optional[bool] = None
    slot: Optional[int] = None
    journal: Optional[KeeperJournal] = None
    jobs: dict[str, KeeperJob] = Field(default_factory=dict)
    error: Optional[str] = Field(None, description="Why the keeper could not be read")


class ProofCheck(BaseModel):
    ref: str
    verified: bool = Field(description="The path leads to the root and the program's batch account holds it")
    slot: int = Field(description="The slot the batch account was read at")
    proof: dict[str, Any] = Field(description="The aistm7-revenue-proof document (README, Proof of revenue)")
    batch: RevenueBatch
