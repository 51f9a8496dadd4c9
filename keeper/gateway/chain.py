"""Program state for the gateway, read from chain with a short cache.

Each read is one `getMultipleAccounts` (so everything in an answer was read
at one slot, which the answer names); answers are kept `ttl_secs` and
concurrent readers of the same thing share one RPC call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from solana.rpc.commitment import Confirmed
from solana.rpc.types import TokenAccountOpts
from solders.pubkey import Pubkey
from spl.token._layouts import ACCOUNT_LAYOUT
from spl.token.instructions import get_associated_token_address

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.gateway.cache import Shared
from keeper.state import AccessLock, Buyback, BuyOrder, Config, RevenueBatch, ServiceFee

DEFAULT_TTL_SECS = 1.0


class NotInitialized(Exception):
    """The program has no config (or no fee schedule, or no treasury) at this RPC."""


@dataclass(frozen=True)
class TokenAccount:
    address: Pubkey
    mint: Pubkey
    owner: Pubkey
    amount: int
    delegate: Pubkey | None
    delegated_amount: int
    frozen: bool


@dataclass(frozen=True)
class Snapshot:
    """Accounts read at one slot, and the cluster time then."""

    slot: int
    cluster_time: int
    config: Config
    lock: AccessLock | None = None
    services: list[ServiceFee] | None = None
    token: TokenAccount | None = None
    buyback: Buyback | None = None


def parse_token_account(address: Pubkey, data: bytes) -> TokenAccount | None:
    if len(data) != ACCOUNT_LAYOUT.sizeof():
        return None
    raw = ACCOUNT_LAYOUT.parse(data)
    return TokenAccount(
        address,
        Pubkey(raw.mint),
        Pubkey(raw.owner),
        raw.amount,
        Pubkey(raw.delegate) if raw.delegate_option else None,
        raw.delegated_amount,
        raw.state == 2,
    )


class ChainReader:
    def __init__(self, client: Aistm7Client, ttl_secs: float = DEFAULT_TTL_SECS) -> None:
        self.client = client
        self._cache = Shared(ttl_secs)

    def _decode(self, data: bytes) -> Any:
        return self.client.program.coder.accounts.decode(data)

    def _ours(self, found: tuple[Pubkey, bytes] | None) -> bool:
        return found is not None and found[0] == self.client.program_id

    def _services(self, schedule: tuple[Pubkey, bytes] | None) -> list[ServiceFee] | None:
        if schedule is None or not self._ours(schedule):
            return None
        return [ServiceFee.decode(service) for service in self._decode(schedule[1]).services]

    async def _read(self, keys: Sequence[Pubkey]) -> tuple[int, int, Config, list[tuple[Pubkey, bytes] | None]]:
        """Config, clock and `keys` at one slot: (slot, time, config, (owner, data) of each key)."""
        config_key = self.client.config_address()
        response = await self.client.connection.get_multiple_accounts(
            [config_key, addresses.CLOCK_SYSVAR_ID, *keys], Confirmed
        )
        config, clock, *rest = response.value
        if config is None or config.owner != self.client.program_id:
            raise NotInitialized("the program is not initialized at this RPC (no config account)")
        if clock is None:
            raise RuntimeError("no Clock sysvar")
        now = int.from_bytes(bytes(clock.data)[32:40], "little", signed=True)
        # Only the program's accounts (and, for token accounts, the token
        # program's) count: anything else at an address is read as absent.
        owners = (self.client.program_id, addresses.TOKEN_PROGRAM_ID)
        found = [None if account is None or account.owner not in owners else (account.owner, bytes(account.data)) for account in rest]
        return response.context.slot, now, Config.decode(self._decode(bytes(config.data))), found

    async def access(self, wallet: Pubkey) -> Snapshot:
        async def load() -> Snapshot:
            slot, now, config, (lock,) = await self._read([addresses.lock_pda(wallet, self.client.program_id)])
            ours = lock is not None and lock[0] == self.client.program_id
            return Snapshot(slot, now, config, lock=AccessLock.decode(self._decode(lock[1])) if lock and ours else None)

        return await self._cache.get(("access", wallet), load)

    async def state(self) -> Snapshot:
        """Config, fee schedule and treasury (either may be absent)."""

        async def load() -> Snapshot:
            schedule_key = addresses.fee_schedule_pda(self.client.program_id)
            slot, now, config, (schedule, buyback) = await self._read(
                [schedule_key, addresses.buyback_pda(self.client.program_id)]
            )
            services = self._services(schedule)
            treasury = Buyback.decode(self._decode(buyback[1])) if buyback is not None and self._ours(buyback) else None
            return Snapshot(slot, now, config, services=services, buyback=treasury)

        return await self._cache.get("state", load)

    async def charge_view(self, wallet: Pubkey, token_account: Pubkey | None) -> Snapshot:
        """What a charge is validated against, never cached: config, fee
        schedule and the wallet's token account (the one given, else its
        associated one, else its only account of the mint), in one read
        unless the fallback is needed."""
        mint = (await self.state()).config.mint
        address = token_account or get_associated_token_address(wallet, mint)
        view = await self._charge_read(address)
        if view.token is None and token_account is None:
            opts = TokenAccountOpts(mint=mint)
            held = (await self.client.connection.get_token_accounts_by_owner(wallet, opts, Confirmed)).value
            if len(held) == 1:
                view = await self._charge_read(held[0].pubkey)
        return view

    async def _charge_read(self, address: Pubkey) -> Snapshot:
        slot, now, config, (schedule, token) = await self._read([addresses.fee_schedule_pda(self.client.program_id), address])
        parsed = parse_token_account(address, token[1]) if token is not None and token[0] == addresses.TOKEN_PROGRAM_ID else None
        return Snapshot(slot, now, config, services=self._services(schedule), token=parsed)

    async def treasury(self) -> tuple[Snapshot, TokenAccount | None]:
        """The treasury and its quote vault's token account, at one slot."""

        async def load() -> tuple[Snapshot, TokenAccount | None]:
            known = (await self.state()).buyback
            if known is None:
                raise NotInitialized("the program has no buy-order treasury")
            slot, now, config, (buyback, vault) = await self._read([addresses.buyback_pda(self.client.program_id), known.quote_vault])
            if buyback is None or not self._ours(buyback):
                raise NotInitialized("the program has no buy-order treasury")
            token = parse_token_account(known.quote_vault, vault[1]) if vault is not None and vault[0] == addresses.TOKEN_PROGRAM_ID else None
            return Snapshot(slot, now, config, buyback=Buyback.decode(self._decode(buyback[1]))), token

        return await self._cache.get("treasury", load)

    async def buy_orders(self) -> list[BuyOrder]:
        async def load() -> list[BuyOrder]:
            found = await self.client.fetch_all("BuyOrder")
            return sorted((BuyOrder.decode(raw) for _, raw in found), key=lambda order: order.id)

        return await self._cache.get("orders", load)

    async def batch(self, seq: int) -> tuple[int, RevenueBatch | None]:
        """(slot read at, revenue batch `seq` or None when the program holds none)."""

        async def load() -> tuple[int, RevenueBatch | None]:
            slot, _, _, (found,) = await self._read([addresses.revenue_batch_pda(seq, self.client.program_id)])
            return slot, RevenueBatch.parse(found[1]) if found is not None and self._ours(found) else None

        return await self._cache.get(("batch", seq), load)

    async def batches(self, seqs: Sequence[int]) -> dict[int, RevenueBatch]:
        return await self._cache.get(("batches", tuple(seqs)), lambda: self.client.fetch_revenue_batches(seqs))

    async def receipt(self, request_id: bytes) -> tuple[int, Any] | None:
        """The charge receipt of `request_id` (slot, decoded), uncached."""
        response = await self.client.connection.get_account_info(
            addresses.charge_receipt_pda(request_id, self.client.program_id), Confirmed
        )
        if response.value is None or response.value.owner != self.client.program_id:
            return None
        return response.context.slot, self._decode(bytes(response.value.data))
