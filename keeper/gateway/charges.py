"""Charges: validate, then send `charge_service_fee` with the fee
collector's key, at most once per (merchant, request id).

Two guarantees stack. On chain, the request id maps to a receipt account
the program creates once (a second transaction fails `DuplicateRequest`)
and keeps for its retention (7 days). In the database, the first request
to insert the pending row owns it (a lease); other requests for the same id
wait for its outcome and replay it. A row whose owner died (its lease ran
out) is taken over: its receipt, or the transaction it noted before
sending, says whether the charge landed; only a charge younger than an hour
with neither on chain is sent again, so a closed receipt can never let a
charge through twice. A lost database re-charges nothing while the receipt
lives; past the retention a request id is the merchant's to keep unique.

Refusals found before anything is sent (malformed input, unknown service,
balance or allowance short, limits) write nothing, so the same request id
can be retried once the cause is fixed; a failure after sending (the
program refused the transaction) is the request's outcome, is replayed,
and is a `charge.failed` event."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.pubkey import Pubkey
from solders.signature import Signature

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.errors import ProgramFailure
from keeper.gateway.chain import ChainReader, NotInitialized, Snapshot
from keeper.gateway.errors import ApiError
from keeper.gateway.events import dumps
from keeper.gateway.store import ChargeRow, EventRecord, KeyRow, Store, now_ms

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DEFAULT_LEASE_SECS = 30.0
DEFAULT_WALLET_CHARGES_PER_MIN = 60
REPLAY_WAIT_SECS = 5.0
POLL_SECS = 0.1
MAX_RESEND_AGE_MS = 3_600_000
"""A pending charge older than this is never sent again: the program closes
receipts after their retention (7 days), so only a young charge's missing
receipt proves it never landed."""


@dataclass(frozen=True)
class Outcome:
    row: ChargeRow
    replayed: bool


def onchain_request_id(merchant: str, request_id: str) -> bytes:
    """The 32-byte id the program's receipt is keyed by: request ids are
    per merchant, so two merchants' "order-1" are two charges."""
    return hashlib.sha256(b"aistm7-gateway-charge\x00" + merchant.encode() + b"\x00" + request_id.encode()).digest()


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def refuse_unpayable(
    view: Snapshot, wallet: Pubkey, service: str, fee_collector: Pubkey, program_id: Pubkey
) -> tuple[int, Pubkey]:
    """The fee and the token account to charge, or the refusal the program
    would give (same names), checked in the program's order."""
    config = view.config
    if config.paused:
        raise ApiError(409, "paused", "the program is paused")
    if config.authorities.fee_collector != fee_collector:
        raise ApiError(503, "charges_unavailable", "this gateway's key is not the program's fee collector")
    if view.services is None:
        raise NotInitialized("the program has no fee schedule")
    found = next((s for s in view.services if s.name == service), None)
    if found is None:
        raise ApiError(400, "unknown_service", f"no service {service!r} in the fee schedule", "service")
    terms = found.terms
    if not terms.active:
        raise ApiError(409, "service_inactive", f"{service} is not active", "service")
    if view.cluster_time < terms.valid_from:
        raise ApiError(409, "service_not_yet_valid", f"{service} is valid from {terms.valid_from}", "service")
    if terms.valid_to and view.cluster_time >= terms.valid_to:
        raise ApiError(409, "service_expired", f"{service} was valid until {terms.valid_to}", "service")
    token = view.token
    if token is None:
        raise ApiError(402, "no_token_account", f"{wallet} has no token account of the mint {config.mint}", "wallet")
    if token.owner != wallet or token.mint != config.mint:
        raise ApiError(400, "wrong_token_account", f"{token.address} is not {wallet}'s account of {config.mint}", "token_account")
    if token.frozen:
        raise ApiError(402, "token_account_frozen", f"{token.address} is frozen", "token_account")
    if token.amount < terms.cost:
        raise ApiError(402, "insufficient_fee_balance", f"the balance {token.amount} is below the fee {terms.cost}", "wallet")
    delegate = addresses.fee_delegate_pda(program_id)
    if token.delegate != delegate or token.delegated_amount < terms.cost:
        raise ApiError(
            402, "allowance_too_small",
            f"the allowance to the fee delegate {delegate} is below the fee {terms.cost}: approve it first", "wallet",
        )
    return terms.cost, token.address


class Charges:
    def __init__(
        self,
        store: Store,
        chain: ChainReader,
        client: Aistm7Client,
        lease_secs: float = DEFAULT_LEASE_SECS,
        wallet_charges_per_min: int = DEFAULT_WALLET_CHARGES_PER_MIN,
        after_send: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.client = client
        self.lease_ms = int(lease_secs * 1000)
        self.wallet_charges_per_min = wallet_charges_per_min
        self.after_send = after_send
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
        self.log = logger.bind(job="charges")

    @property
    def fee_collector(self) -> Pubkey:
        return self.client.payer.pubkey()

    async def create(self, key: KeyRow, wallet: Pubkey, service: str, request_id: str, token_account: Pubkey | None) -> Outcome:
        check_request_id(request_id)
        existing = await asyncio.to_thread(self.store.charge, key.merchant, request_id)
        if existing is not None:
            return await self._replay(existing, wallet, service)
        view = await self.chain.charge_view(wallet, token_account)
        _, account = refuse_unpayable(view, wallet, service, self.fee_collector, self.client.program_id)
        created = now_ms()
        values = {
            "merchant": key.merchant, "request_id": request_id, "key_id": key.key_id, "wallet": str(wallet),
            "receipt_id": onchain_request_id(key.merchant, request_id).hex(),
            "service": service, "token_account": str(account), "status": "pending", "owner": self.owner,
            "lease_until_ms": created + self.lease_ms, "created_ms": created,
        }
        claimed = await asyncio.to_thread(self.store.claim_charge, values, self.wallet_charges_per_min, created - 60_000)
        if claimed == "limited":
            raise ApiError(429, "wallet_rate_limited", f"{wallet} reached {self.wallet_charges_per_min} charges this minute", "wallet", 60.0)
        row = await self._current(key.merchant, request_id)
        if claimed == "exists":
            return await self._replay(row, wallet, service)
        return Outcome(await self._send(row, view.config.mint), replayed=False)

    async def get(self, merchant: str, request_id: str) -> ChargeRow | None:
        """A charge, settled first when its owner died while sending it."""
        check_request_id(request_id)
        row = await asyncio.to_thread(self.store.charge, merchant, request_id)
        if row is not None and row.status == "pending" and row.lease_until_ms < now_ms():
            return await self._take_over(row)
        return row

    async def _current(self, merchant: str, request_id: str) -> ChargeRow:
        found = await asyncio.to_thread(self.store.charge, merchant, request_id)
        if found is None:  # its first request failed before signing anything and let it go
            raise ApiError(503, "charge_not_sent", "the first request for this id failed before sending: retry", "request_id", 1.0)
        return found

    async def _replay(self, row: ChargeRow, wallet: Pubkey, service: str) -> Outcome:
        if row.wallet != str(wallet) or row.service != service:
            raise ApiError(
                409, "request_id_reused",
                f"request_id {row.request_id} was used for {row.service} by {row.wallet}", "request_id",
            )
        deadline = time.monotonic() + REPLAY_WAIT_SECS
        while row.status == "pending":
            if row.lease_until_ms < now_ms():
                return Outcome(await self._take_over(row), replayed=True)
            if time.monotonic() > deadline:
                raise ApiError(409, "charge_in_progress", "this request id is being charged: retry shortly", "request_id", 1.0)
            await asyncio.sleep(POLL_SECS)
            row = await self._current(row.merchant, row.request_id)
        return Outcome(row, replayed=True)

    async def _take_over(self, row: ChargeRow) -> ChargeRow:
        """Settle a pending charge whose owner died (or could not tell)."""
        if not await asyncio.to_thread(self.store.take_over, row.id, self.owner, now_ms() + self.lease_ms):
            return await self._current(row.merchant, row.request_id)
        self.log.bind(request_id=row.request_id, merchant=row.merchant).warning(
            "taking over charge {} left pending by {}", row.request_id, row.owner
        )
        settled = await self._landed(row)
        if settled is not None:
            return settled
        if now_ms() - row.created_ms > MAX_RESEND_AGE_MS:
            return await self._finish(row, status="failed", error_code="abandoned", error_message=(
                "left pending too long to be sent again safely (the program's receipts close after their retention)"
            ))
        state = await self.chain.state()
        return await self._send(row, state.config.mint)

    async def _landed(self, row: ChargeRow) -> ChargeRow | None:
        """The outcome of a charge that landed, from its receipt or its noted
        transaction; None when nothing of it is on chain."""
        receipt = await self.chain.receipt(onchain_request_id(row.merchant, row.request_id))
        noted = None if row.signature is None else await self._status(row.signature)
        if receipt is not None:
            slot, data = receipt
            if str(data.user) != row.wallet:
                return await self._finish(row, status="failed", error_code="receipt_mismatch", error_message=(
                    f"this request id's receipt on chain charged {data.user}, not {row.wallet}"
                ))
            signature = row.signature if noted is not None else None
            return await self._finish(
                row, status="succeeded", amount_units=data.amount, signature=signature, slot=noted or slot
            )
        if noted is not None and row.signature is not None:  # landed, and its receipt has been closed since
            amount = await self._amount(row.signature)
            return await self._finish(row, status="succeeded", amount_units=amount, signature=row.signature, slot=noted)
        return None

    async def _status(self, signature: str) -> int | None:
        """The slot `signature` landed in without error, else None."""
        found = await self.client.connection.get_signature_statuses(
            [Signature.from_string(signature)], search_transaction_history=True
        )
        status = found.value[0]
        return None if status is None or status.err is not None else status.slot

    async def _amount(self, signature: str) -> int | None:
        tx = (await self.client.connection.get_transaction(Signature.from_string(signature), "json", Confirmed, 0)).value
        meta = None if tx is None else tx.transaction.meta
        logs = [] if meta is None else list(meta.log_messages or [])
        return next((event.data.amount for event in self.client.events(logs) if event.name == "FeePaid"), None)

    async def _finish(self, row: ChargeRow, **result: Any) -> ChargeRow:
        """Record the outcome; a failure is also a `charge.failed` event."""
        failed: list[EventRecord] = []
        if result["status"] == "failed":
            data = {
                "request_id": row.request_id, "wallet": row.wallet, "service": row.service,
                "error": {"code": result["error_code"], "message": result["error_message"]},
            }
            failed.append(EventRecord(f"charge:{row.id}:failed", "charge.failed", row.merchant, None, None, None, dumps(data)))
        return await asyncio.to_thread(self.store.finish_charge, row.id, failed, **result)

    async def _send(self, row: ChargeRow, mint: Pubkey) -> ChargeRow:
        ix = self.client.charge_service_fee_ix(
            self.fee_collector, mint, Pubkey.from_string(row.token_account), row.service,
            onchain_request_id(row.merchant, row.request_id),
        )
        signed: list[str] = []

        async def note(signature: Signature) -> None:
            signed.append(str(signature))
            await asyncio.to_thread(self.store.note_signature, row.id, self.owner, str(signature))

        log = self.log.bind(request_id=row.request_id, merchant=row.merchant, wallet=row.wallet)
        try:
            sent = await self.client.send([ix], on_signed=note)
        except ProgramFailure as failure:
            if failure.name == "DuplicateRequest":
                # Another transaction of this request landed: its receipt
                # settles it; an RPC node not showing it yet leaves it pending.
                return await self._landed(await self._current(row.merchant, row.request_id)) or row
            log.info("charge {} refused by the program: {}", row.request_id, failure.name)
            return await self._finish(
                row, status="failed", error_code=snake(failure.name), error_message=f"the program refused the charge: {failure.name}"
            )
        except Exception as exc:  # the outcome is unknown, or nothing was sent
            if not signed:
                await asyncio.to_thread(self.store.release_charge, row.id, self.owner)
                raise ApiError(503, "rpc_unavailable", f"the charge was not sent: {type(exc).__name__}", None, 1.0) from exc
            log.warning("charge {} sent as {}, outcome unknown: {}", row.request_id, signed[-1], exc)
            return await self._current(row.merchant, row.request_id)  # pending: the next request settles it
        if self.after_send is not None:
            self.after_send()
        amount = next((event.data.amount for event in self.client.events(sent.logs) if event.name == "FeePaid"), None)
        log.info("charged {} {} units for {} ({})", row.wallet, amount, row.service, sent.signature)
        return await self._finish(row, status="succeeded", amount_units=amount, signature=str(sent.signature), slot=sent.slot)


def check_request_id(request_id: str) -> None:
    if not REQUEST_ID.fullmatch(request_id):
        raise ApiError(400, "invalid_request_id", "request_id: 1-128 of A-Z a-z 0-9 . _ : -", "request_id")


def as_dict(row: ChargeRow) -> dict[str, Any]:
    """A charge as the API shows it."""
    return {
        "request_id": row.request_id,
        "merchant": row.merchant,
        "wallet": row.wallet,
        "service": row.service,
        "token_account": row.token_account,
        "status": row.status,
        "amount_units": row.amount_units,
        "signature": row.signature,
        "slot": row.slot,
        "error": None if row.error_code is None else {"code": row.error_code, "message": row.error_message},
        "created_ms": row.created_ms,
        "completed_ms": row.completed_ms,
    }
