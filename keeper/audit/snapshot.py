"""Every program account, the token accounts it controls and its mints, read
straight from RPC (any cluster: nothing here depends on the keeper)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.pubkey import Pubkey
from spl.token.constants import TOKEN_PROGRAM_ID

from keeper import retry
from keeper.client import Aistm7Client
from keeper.state import AccessLock, Buyback, BuyOrder, Config, Proposal, ServiceFee, WalletLink

# SPL Token account and mint layouts (spl-token state.rs): offsets of the fields read here.
_TOKEN_MINT = slice(0, 32)
_TOKEN_OWNER = slice(32, 64)
_TOKEN_AMOUNT = slice(64, 72)
_MINT_AUTHORITY_TAG = slice(0, 4)
_MINT_AUTHORITY = slice(4, 36)
_MINT_SUPPLY = slice(36, 44)
_MINT_DECIMALS = 44
_RPC_BATCH = 100
"""getMultipleAccounts takes at most 100 addresses."""
_ATTEMPTS = 5
"""Reads retaken when a program transaction lands between the first and the last."""


class StateChanging(RuntimeError):
    """Program transactions kept landing while the snapshot was read."""


@dataclass(frozen=True)
class TokenAccount:
    """An SPL token account: `role` says what the program uses it for."""

    role: str
    address: Pubkey
    mint: Pubkey
    owner: Pubkey
    amount: int
    program_owner: Pubkey


@dataclass(frozen=True)
class Mint:
    role: str
    address: Pubkey
    supply: int
    decimals: int
    mint_authority: Pubkey | None


@dataclass(frozen=True)
class Snapshot:
    program_id: Pubkey
    slot: int
    last_signature: str | None
    """The newest program transaction the snapshot reflects: the history read
    for it stops there."""
    cluster_time: int
    config: Config
    fee_schedule: list[ServiceFee] | None
    buyback: Buyback | None
    orders: list[BuyOrder]
    """The order accounts that still exist: settled ones may have been closed."""
    proposals: list[Proposal]
    """Likewise, settled proposals may have been closed."""
    wallet_links: list[WalletLink]
    access_locks: list[AccessLock]
    charge_receipts: int
    token_accounts: list[TokenAccount]
    """Missing accounts are left out; `verify` names them."""
    mints: list[Mint]

    def token_account(self, address: Pubkey) -> TokenAccount | None:
        return next((account for account in self.token_accounts if account.address == address), None)

    def mint(self, role: str) -> Mint | None:
        return next((mint for mint in self.mints if mint.role == role), None)


async def _raw_accounts(client: Aistm7Client, wanted: list[Pubkey]) -> list[tuple[Pubkey, bytes, Pubkey] | None]:
    """(address, data, owner program) per address, None where no account exists."""
    found: list[tuple[Pubkey, bytes, Pubkey] | None] = []
    for start in range(0, len(wanted), _RPC_BATCH):
        chunk = wanted[start : start + _RPC_BATCH]
        values = (await client.connection.get_multiple_accounts(chunk, Confirmed)).value
        found.extend(
            None if value is None else (address, bytes(value.data), value.owner) for address, value in zip(chunk, values)
        )
    return found


def _token_account(role: str, address: Pubkey, data: bytes, program_owner: Pubkey) -> TokenAccount:
    return TokenAccount(
        role=role,
        address=address,
        mint=Pubkey.from_bytes(data[_TOKEN_MINT]),
        owner=Pubkey.from_bytes(data[_TOKEN_OWNER]),
        amount=int.from_bytes(data[_TOKEN_AMOUNT], "little"),
        program_owner=program_owner,
    )


def _mint(role: str, address: Pubkey, data: bytes) -> Mint:
    has_authority = int.from_bytes(data[_MINT_AUTHORITY_TAG], "little") == 1
    return Mint(
        role=role,
        address=address,
        supply=int.from_bytes(data[_MINT_SUPPLY], "little"),
        decimals=data[_MINT_DECIMALS],
        mint_authority=Pubkey.from_bytes(data[_MINT_AUTHORITY]) if has_authority else None,
    )


def _token_roles(config: Config, buyback: Buyback | None, orders: list[BuyOrder]) -> list[tuple[str, Pubkey]]:
    roles = [
        ("treasury_vault", config.treasury_vault),
        ("reward_vault", config.reward_vault),
        ("buyback_vault", config.buyback_vault),
        ("lock_vault", config.lock_vault),
    ]
    if buyback is not None:
        roles.append(("quote_vault", buyback.quote_vault))
    roles += [(f"order_{order.id}_escrow", order.escrow) for order in orders]
    return roles


async def _last_signature(client: Aistm7Client) -> str | None:
    page = (await client.connection.get_signatures_for_address(client.program_id, limit=1, commitment=Confirmed)).value
    return str(page[0].signature) if page else None


async def take(client: Aistm7Client) -> Snapshot:
    """Everything, consistent as of one program transaction: the reads are
    retaken while transactions land between them. Raises LookupError when the
    program has no config (not initialized)."""
    for attempt in range(1, _ATTEMPTS + 1):
        before = await retry.read(lambda: _last_signature(client), "getSignaturesForAddress")
        snapshot = await retry.read(lambda: _read_all(client), "reading the program accounts")
        after = await retry.read(lambda: _last_signature(client), "getSignaturesForAddress")
        if before == after:
            return replace(snapshot, last_signature=after)
        logger.info("program transaction {} landed during snapshot attempt {}: reading again", after, attempt)
    raise StateChanging(f"program state changed during each of {_ATTEMPTS} snapshot attempts; retry when quieter")


async def _read_all(client: Aistm7Client) -> Snapshot:
    config_found = await client.fetch_config()
    if config_found is None:
        raise LookupError("no config account: the program is not initialized")
    config = config_found.data
    schedule = await client.fetch_fee_schedule()
    buyback_found = await client.fetch_buyback()
    buyback = None if buyback_found is None else buyback_found.data
    orders = sorted((BuyOrder.decode(raw) for _, raw in await client.fetch_all("BuyOrder")), key=lambda o: o.id)
    proposals = sorted((Proposal.decode(raw) for _, raw in await client.fetch_all("Proposal")), key=lambda p: p.id)
    links = sorted((WalletLink.decode(raw) for _, raw in await client.fetch_all("WalletLink")), key=lambda w: str(w.wallet))
    locks = sorted((AccessLock.decode(raw) for _, raw in await client.fetch_all("AccessLock")), key=lambda a: str(a.wallet))
    receipts = len(await client.fetch_all("ChargeReceipt"))

    token_roles = _token_roles(config, buyback, orders)
    mint_roles = [("token_mint", config.mint)] + ([("quote_mint", buyback.quote_mint)] if buyback else [])
    raw = await _raw_accounts(client, [address for _, address in token_roles + mint_roles])
    token_raw, mint_raw = raw[: len(token_roles)], raw[len(token_roles) :]
    token_accounts = [
        _token_account(role, *found)
        for (role, _), found in zip(token_roles, token_raw)
        if found is not None and found[2] == TOKEN_PROGRAM_ID
    ]
    mints = [
        _mint(role, found[0], found[1])
        for (role, _), found in zip(mint_roles, mint_raw)
        if found is not None and found[2] == TOKEN_PROGRAM_ID
    ]
    return Snapshot(
        program_id=client.program_id,
        slot=config_found.slot,
        last_signature=None,
        cluster_time=await client.cluster_time(),
        config=config,
        fee_schedule=None if schedule is None else schedule.data,
        buyback=buyback,
        orders=orders,
        proposals=proposals,
        wallet_links=links,
        access_locks=locks,
        charge_receipts=receipts,
        token_accounts=token_accounts,
        mints=mints,
    )

