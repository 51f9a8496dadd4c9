"""The program's event history, read back from transaction logs
(`getSignaturesForAddress` + `getTransaction`, decoded with the IDL's event coder)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Iterable

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.pubkey import Pubkey
from solders.rpc.responses import GetTransactionResp
from solders.signature import Signature

from keeper import retry
from keeper.client import Aistm7Client

KINDS: dict[str, tuple[str, ...]] = {
    "setup": ("ConfigInitialized", "BuybackInitialized", "AuthoritiesUpdated", "TokenParamsUpdated", "PauseChanged"),
    "requirement": (
        "RequirementUpdated",
        "RequirementParamsUpdated",
        "OracleParamsUpdated",
        "RequirementOverrideSet",
        "CircuitBreakerTripped",
        "CircuitBreakerReset",
    ),
    "access": ("AccessVerified", "TokensLocked", "UnlockRequested", "TokensUnlocked"),
    "token": ("TokensMinted", "TreasuryDeposited"),
    "fees": ("FeePaid", "ServiceFeeSet"),
    "rewards": ("RewardPaid", "RewardVaultFunded"),
    "wallets": ("WalletLinked", "WalletUnlinked"),
    "revenue": ("RevenueReported",),
    "buy-orders": ("BuyOrderOpened", "BuyOrderClosed"),
    "fills": ("BuyOrderFilled",),
    "withdrawals": ("VaultWithdrawn",),
    "proposals": ("ProposalCreated", "ProposalApproved", "ProposalExecuted", "ProposalCancelled", "CouncilChanged"),
    "closed": ("AccountClosed",),
}
KIND_OF = {event: kind for kind, events in KINDS.items() for event in events}
_PAGE = 1_000
"""getSignaturesForAddress returns at most 1,000 signatures a call."""
_ENUM_MODULE = "sumtypes"
"""Where anchorpy's decoder (borsh-construct) creates enum variant classes."""
_TRUNCATED = "Log truncated"
"""What the runtime logs in place of lines past its log size limit."""
_CONCURRENT = 16
"""getTransaction requests in flight at once (public RPCs rate-limit beyond)."""


@dataclass(frozen=True)
class HistoryEvent:
    signature: str
    slot: int
    block_time: int | None
    index: int
    """Position among the transaction's events."""
    name: str
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return KIND_OF.get(self.name, "other")


@dataclass(frozen=True)
class History:
    events: list[HistoryEvent]
    complete: bool
    """True when it reaches back to `ConfigInitialized` and no transaction's
    logs are missing or truncated: counters can be reconciled against it.
    Pruned RPC history or a state loaded from account files give False."""

    def named(self, *names: str) -> list[HistoryEvent]:
        return [event for event in self.events if event.name in names]


def plain(value: Any) -> Any:
    """An anchorpy-decoded value as JSON-ready data: keys as base58, byte arrays
    as hex, enum variants as their name, or {name: fields} when they have fields."""
    if isinstance(value, Pubkey):
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return bytes(value).hex()
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if not key.startswith("_")}
    if is_dataclass(value):
        return {field.name: plain(getattr(value, field.name)) for field in fields(value)}
    found = {key: plain(item) for key, item in vars(value).items() if not key.startswith("_")}
    if type(value).__module__ == _ENUM_MODULE:
        return {type(value).__name__: found} if found else type(value).__name__
    return found


def _selected(name: str, kinds: Iterable[str]) -> bool:
    wanted = set(kinds)
    return not wanted or name in wanted or KIND_OF.get(name, "other") in wanted


async def _signatures(
    client: Aistm7Client, since: int | None, upto: str | None
) -> list[tuple[Signature, int, int | None]]:
    """Successful transactions that touched the program, oldest first, ending
    at `upto` (a signature) when given."""
    found: list[tuple[Signature, int, int | None]] = []
    before: Signature | None = None
    reached = upto is None
    while True:
        page = (
            await retry.read(
                lambda: client.connection.get_signatures_for_address(
                    client.program_id, before=before, limit=_PAGE, commitment=Confirmed
                ),
                "getSignaturesForAddress",
            )
        ).value
        for item in page:
            reached = reached or str(item.signature) == upto
            if reached and item.err is None:
                found.append((item.signature, item.slot, item.block_time))
        if len(page) < _PAGE or (since is not None and page[-1].block_time is not None and page[-1].block_time < since):
            break
        before = page[-1].signature
    found.reverse()
    return found


async def _transaction(client: Aistm7Client, signature: Signature) -> GetTransactionResp:
    return await retry.read(
        lambda: client.connection.get_transaction(signature, "json", Confirmed, 0), f"getTransaction {signature}"
    )


async def newer_than(client: Aistm7Client, cursor: str | None) -> list[tuple[Signature, int, int | None, bool]]:
    """Every transaction that touched the program after the signature
    `cursor` (all of them without one), oldest first: (signature, slot,
    block time, succeeded)."""
    until = None if cursor is None else Signature.from_string(cursor)
    found: list[tuple[Signature, int, int | None, bool]] = []
    before: Signature | None = None
    while True:
        page = (
            await retry.read(
                lambda: client.connection.get_signatures_for_address(
                    client.program_id, before=before, until=until, limit=_PAGE, commitment=Confirmed
                ),
                "getSignaturesForAddress",
            )
        ).value
        found.extend((item.signature, item.slot, item.block_time, item.err is None) for item in page)
        if len(page) < _PAGE:
            break
        before = page[-1].signature
    found.reverse()
    return found


async def transaction_events(client: Aistm7Client, signature: Signature, slot: int, block_time: int | None) -> list[HistoryEvent] | None:
    """The program's events in one transaction, in order; None while the RPC
    does not serve the transaction."""
    tx = (await _transaction(client, signature)).value
    meta = None if tx is None else tx.transaction.meta
    if meta is None:
        return None
    logs = meta.log_messages or []
    return [HistoryEvent(str(signature), slot, block_time, index, event.name, plain(event.data)) for index, event in enumerate(client.events(logs))]


async def read(
    client: Aistm7Client,
    kinds: Iterable[str] = (),
    since: int | None = None,
    until: int | None = None,
    upto: str | None = None,
) -> History:
    """Events oldest first, restricted to `kinds` (a kind of KINDS or an event
    name), to block times in [since, until] and to transactions up to the
    signature `upto` (a snapshot's `last_signature`)."""
    events: list[HistoryEvent] = []
    initialized = missing = False
    signatures = await _signatures(client, since, upto)
    for start in range(0, len(signatures), _CONCURRENT):
        chunk = signatures[start : start + _CONCURRENT]
        found = await asyncio.gather(*(_transaction(client, signature) for signature, _, _ in chunk))
        for (signature, slot, block_time), response in zip(chunk, found):
            tx = response.value
            meta = None if tx is None else tx.transaction.meta
            if meta is None:
                logger.warning("transaction {} is no longer served by the RPC: its events are missing", signature)
                missing = True
                continue
            logs = meta.log_messages or []
            if _TRUNCATED in logs:
                logger.warning("transaction {} has truncated logs: some of its events are missing", signature)
                missing = True
            in_window = block_time is None or (
                (since is None or block_time >= since) and (until is None or block_time <= until)
            )
            for index, event in enumerate(client.events(logs)):
                initialized = initialized or event.name == "ConfigInitialized"
                if in_window and _selected(event.name, kinds):
                    events.append(HistoryEvent(str(signature), slot, block_time, index, event.name, plain(event.data)))
    return History(events, complete=initialized and since is None and not missing)
