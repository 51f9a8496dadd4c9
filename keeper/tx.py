"""The one transaction sender: priority fee, preflight, bounded retries with
backoff and jitter, confirmation.

A transaction that may have landed is never rebuilt before the cluster has
been asked about its signature: while its blockhash is valid the same signed
bytes are re-sent (one signature lands at most once); only once the blockhash
has expired with no status is a new transaction built."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence

import httpx
from loguru import logger
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solana.rpc.types import TxOpts
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.rpc.errors import SendTransactionPreflightFailureMessage
from solders.signature import Signature
from solders.transaction import Transaction
from solders.transaction_status import TransactionErrorFieldless

from keeper.retry import TRANSIENT, backoff

SEND_OPTS = TxOpts(skip_confirmation=True, preflight_commitment=Confirmed)
POLL_SECS = 0.25
MAX_ATTEMPTS = 5
# Compute units a priority-fee transaction reserves; our instructions use far less.
PRIORITY_CU_LIMIT = 400_000
MAX_REMEMBERED = 10_000
"""Signatures a sender remembers to never reuse one within a blockhash's life."""


class SendError(RuntimeError):
    """The transaction could not be landed within the attempts allowed."""


def already_processed(exc: RPCException) -> bool:
    error = exc.args[0]
    return (
        isinstance(error, SendTransactionPreflightFailureMessage)
        and isinstance(error.data.err, TransactionErrorFieldless)
        and error.data.err == TransactionErrorFieldless.AlreadyProcessed
    )


class Sender:
    def __init__(self, connection: AsyncClient, payer: Keypair, rpc_url: str, priority_fee: bool = False) -> None:
        self.connection = connection
        self.payer = payer
        self.rpc_url = rpc_url
        self.priority_fee = priority_fee
        self._sent: set[Signature] = set()

    async def priority_ixs(self, instructions: Sequence[Instruction]) -> list[Instruction]:
        """Compute-budget instructions paying the 75th percentile of recent
        prices for the accounts these instructions write (none when zero)."""
        if not self.priority_fee:
            return []
        writable = sorted({str(meta.pubkey) for ix in instructions for meta in ix.accounts if meta.is_writable})
        body = {"jsonrpc": "2.0", "id": 1, "method": "getRecentPrioritizationFees", "params": [writable[:128]]}
        async with httpx.AsyncClient(timeout=10) as http:
            fees = (await http.post(self.rpc_url, json=body)).json().get("result") or []
        prices = sorted(int(fee["prioritizationFee"]) for fee in fees)
        price = prices[(3 * (len(prices) - 1) + 3) // 4] if prices else 0
        if price == 0:
            return []
        return [set_compute_unit_limit(PRIORITY_CU_LIMIT), set_compute_unit_price(price)]

    async def _build(self, instructions: Sequence[Instruction], signers: Sequence[Keypair]) -> tuple[Transaction, int]:
        # The same instructions under the same blockhash make the same
        # signature: each call is a new intent, so wait for a new block then.
        while True:
            latest = (await self.connection.get_latest_blockhash(Confirmed)).value
            full = [*await self.priority_ixs(instructions), *instructions]
            tx = Transaction.new_signed_with_payer(full, self.payer.pubkey(), [self.payer, *signers], latest.blockhash)
            if tx.signatures[0] not in self._sent:
                if len(self._sent) >= MAX_REMEMBERED:
                    self._sent.clear()  # a blockhash expires long before this many sends
                self._sent.add(tx.signatures[0])
                return tx, latest.last_valid_block_height
            await asyncio.sleep(POLL_SECS)

    async def _status(self, signature: Signature) -> bool | None:
        """True: landed; False: not seen; None: the RPC did not answer."""
        try:
            statuses = (await self.connection.get_signature_statuses([signature])).value
        except TRANSIENT:
            return None
        return statuses[0] is not None

    async def _expired(self, last_valid: int) -> bool:
        try:
            return (await self.connection.get_block_height(Confirmed)).value > last_valid
        except TRANSIENT:
            return False

    async def send(
        self,
        instructions: Sequence[Instruction],
        signers: Sequence[Keypair] = (),
        on_signed: Callable[[Signature], Awaitable[None]] | None = None,
    ) -> Signature:
        """Land the instructions once and return the confirmed signature.
        Program errors at preflight raise `RPCException` at once. `on_signed`
        hears each new transaction's signature before it is first sent (a
        caller that must settle it after a crash records it there)."""
        log = logger.bind(job="tx")
        for attempt in range(MAX_ATTEMPTS):
            tx, last_valid = await self._build(instructions, signers)
            signature = tx.signatures[0]
            if on_signed is not None:
                await on_signed(signature)
            for resend in range(MAX_ATTEMPTS):
                try:
                    await self.connection.send_raw_transaction(bytes(tx), SEND_OPTS)
                except RPCException as exc:
                    if not already_processed(exc):
                        raise
                    if not await self._status(signature):
                        break  # someone else's identical transaction: build our own
                except TRANSIENT as exc:
                    log.warning("send of {} failed ({}); asking the cluster before any retry", signature, exc)
                landed = await self._wait(signature, last_valid)
                if landed:
                    return signature
                if landed is False:
                    log.warning("{} expired unseen; building a new transaction", signature)
                    break
                await backoff(resend)  # the RPC stopped answering: same bytes again
            await backoff(attempt)
        raise SendError(f"not landed after {MAX_ATTEMPTS} transactions")

    async def _wait(self, signature: Signature, last_valid: int) -> bool | None:
        """Wait for `signature`: True when confirmed, False when its blockhash
        expired unseen, None when the RPC stopped answering (re-send the same bytes)."""
        while True:
            seen = await self._status(signature)
            if seen:
                await self.connection.confirm_transaction(signature, Confirmed, last_valid_block_height=last_valid)
                return True
            if seen is None:
                return None
            if await self._expired(last_valid):
                return False
            await asyncio.sleep(POLL_SECS)
