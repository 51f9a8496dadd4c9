"""`aistm7`: read program state and run the keeper daemon.

Every option can also come from the environment (AISTM7_RPC_URL, AISTM7_KEYPAIR)."""

from __future__ import annotations

import asyncio
import json
import csv
import hashlib
from typing import Awaitable, Callable, Optional, TypeVar
from decimal import Decimal
from pathlib import Path
import typer
from solana.rpc.commitment import Confirmed
from solana.rpc.types import TokenAccountOpts
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.instructions import get_associated_token_address

from keeper import daemon
from keeper.audit.cli import audit_app
from keeper.journal_cli import journal_app
from keeper.market.cli import market_app
from keeper.gateway.cli import gateway_app
from keeper import log, revenue_proof
from keeper import addresses
from keeper.addresses import PROGRAM_ID
from keeper.token import approve_ix
from keeper.journal import proofs
from keeper.client import Aistm7Client
from keeper.daemon import DaemonSettings
from keeper.config import DEFAULT_KEYPAIR
from keeper.jobs import push_revenue
from keeper.health import DEFAULT_MAX_AGE_SECS, HealthPolicy
from keeper.journal import (
    SOURCES,
    BatchChanged,
    ConflictingDuplicate,
    Journal,
    JournalUnavailable,
    NotRepairable,
    PushInProgress,
    RevenueEvent,
)
from keeper.money import CURRENCY, InvalidRevenue, max_event_cents
from keeper.webhook import DEFAULT_TOLERANCE_SECS
from keeper.deploy import load_keypair
from keeper.errors import ProgramFailure
from keeper.state import BuyOrder, Config, DataAndSlot, ServiceFee
from keeper.views import access_dict, fee_rows, requirement_dict, tokens
from keeper.cli_common import AsJson, JournalPath, RpcUrl, config_table, open_journal, with_client

T = TypeVar("T")

app = typer.Typer(help="AISTM7 token system: program state and the keeper daemon.", no_args_is_help=True)
config_app = typer.Typer(help="The program's config account.", no_args_is_help=True)
requirement_app = typer.Typer(help="The access requirement.", no_args_is_help=True)
fees_app = typer.Typer(help="The service-fee schedule.", no_args_is_help=True)
wallet_app = typer.Typer(help="Links between wallets and off-chain users.", no_args_is_help=True)
access_app = typer.Typer(
    help="Tokens locked for access. verify_access counts only tokens locked in the program; unlocked ones "
    "stop counting at once and can be withdrawn after the unlock cooldown (unlock_cooldown_secs, 24 h by default).",
    no_args_is_help=True,
)
treasury_app = typer.Typer(help="The revenue-funded buy-order treasury.", no_args_is_help=True)
revenue_app = typer.Typer(help="The keeper's revenue journal and its pushes on-chain.", no_args_is_help=True)
orders_app = typer.Typer(help="Buy-orders.", no_args_is_help=True)
keeper_app = typer.Typer(help="The keeper daemon.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(requirement_app, name="requirement")
app.add_typer(fees_app, name="fees")
app.add_typer(wallet_app, name="wallet")
app.add_typer(access_app, name="access")
app.add_typer(treasury_app, name="treasury")
app.add_typer(revenue_app, name="revenue")
app.add_typer(orders_app, name="buy-orders")
app.add_typer(keeper_app, name="keeper")
app.add_typer(audit_app, name="audit")
app.add_typer(journal_app, name="journal")
app.add_typer(market_app, name="market")
app.add_typer(gateway_app, name="gateway")

KeypairPath = typer.Option(
    DEFAULT_KEYPAIR, "--keypair", envvar="AISTM7_KEYPAIR", help="Keeper keypair (solana-keygen JSON)."
)
WalletKeypairPath = typer.Option(
    ..., "--keypair", envvar="AISTM7_WALLET_KEYPAIR", help="The wallet's keypair (solana-keygen JSON); it signs and pays."
)
TokenAccount = typer.Option(
    None,
    "--token-account",
    help="The wallet's token account of the mint; default: its associated token account, else its only one.",
)


def _config_dict(config: Config, slot: int) -> dict[str, object]:
    roles = config.authorities
    return {
        "slot": slot,
        "version": config.version,
        "name": config.token_info.name,
        "symbol": config.token_info.symbol,
        "mint": str(config.mint),
        "treasury_vault": str(config.treasury_vault),
        "lock_vault": str(config.lock_vault),
        "total_locked": config.total_locked,
        "authorities": {
            "admin": str(roles.admin),
            "guardian": str(roles.guardian),
            "keeper": str(roles.keeper),
            "fee_collector": str(roles.fee_collector),
            "rewarder": str(roles.rewarder),
        },
    }


async def _config_and_time(client: Aistm7Client) -> tuple[DataAndSlot[Config], int] | None:
    """The config and the cluster time, or None when not initialized."""
    found = await client.fetch_config()
    return None if found is None else (found, await client.cluster_time())


def _require_config(rpc_url: str) -> tuple[DataAndSlot[Config], int]:
    read = with_client(rpc_url, Keypair(), _config_and_time)
    if read is None:
        typer.echo(f"no config account at {rpc_url}: the program is not initialized", err=True)
        raise typer.Exit(1)
    return read


def _print(shown: dict[str, object], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    for key, value in shown.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                typer.echo(f"{key + '.' + inner:<34}{item}")
        else:
            typer.echo(f"{key:<34}{value}")


@config_app.command("show")
def config_show(
    rpc_url: str = RpcUrl,
    as_json: bool = AsJson,
) -> None:
    """Print the config: mint, treasury and lock vaults, what is locked, and every authority."""
    found, _ = _require_config(rpc_url)
    _print(_config_dict(found.data, found.slot), as_json)


@requirement_app.command("show")
def requirement_show(
    rpc_url: str = RpcUrl,
    as_json: bool = AsJson,
) -> None:
    """Print the effective requirement, the price that set it and its age."""
    found, now = _require_config(rpc_url)
    _print(requirement_dict(found.data, now, found.slot), as_json)


def _units(tokens: str, decimals: int) -> int:
    """A decimal token amount in base units; more precision than the mint has is an error."""
    try:
        units = Decimal(tokens).scaleb(decimals)
    except ArithmeticError as exc:
        raise typer.BadParameter(f"not a number: {tokens}") from exc
    if units != units.to_integral_value() or units <= 0:
        raise typer.BadParameter(f"{tokens} is not a positive amount with at most {decimals} decimals")
    return int(units)


def _run_with(rpc_url: str, keypair: Path, action: Callable[[Aistm7Client], Awaitable[T]]) -> T:
    """Run `action` signing as `keypair`; program errors become a clean exit."""
    try:
        signer = load_keypair(keypair)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    try:
        return with_client(rpc_url, signer, action)
    except ProgramFailure as failure:
        typer.echo(f"refused by the program: {failure.name}", err=True)
        raise typer.Exit(1) from failure


@fees_app.command("list")
def fees_list(rpc_url: str = RpcUrl, as_json: bool = AsJson) -> None:
    """Every service: cost, window, and how often and how much it was paid."""
    found, now = _require_config(rpc_url)
    decimals = found.data.mint_decimals
    services = with_client(rpc_url, Keypair(), _read_fees)
    if services is None:
        typer.echo("no fee schedule yet", err=True)
        raise typer.Exit(1)
    rows = fee_rows(services, decimals, now)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'service':<32} {'cost':>14} {'active':>6} {'now':>5} {'count':>8} {'total':>20}")
    for row in rows:
        typer.echo(
            f"{row['name']:<32} {row['cost_tokens']:>14} {str(row['active']):>6} "
            f"{str(row['payable_now']):>5} {row['count']:>8} {row['total_units']:>20}"
        )


async def _read_fees(client: Aistm7Client) -> list[ServiceFee] | None:
    schedule = await client.fetch_fee_schedule()
    return None if schedule is None else schedule.data


@fees_app.command("set")
def fees_set(
    name: str = typer.Argument(..., help="Service name (at most 32 bytes)."),
    cost: Optional[str] = typer.Option(None, help="Cost in tokens, e.g. 0.1 (required for a new service)."),
    active: Optional[bool] = typer.Option(None, "--active/--inactive", help="Accept payments or not."),
    valid_from: Optional[int] = typer.Option(None, help="Unix time payments start (inclusive)."),
    valid_to: Optional[int] = typer.Option(None, help="Unix time payments end (exclusive); 0 = no end."),
    rpc_url: str = RpcUrl,
    keypair: Path = KeypairPath,
) -> None:
    """Add a service or change its terms (signed by the admin keypair)."""
    found, _ = _require_config(rpc_url)
    units = None if cost is None else _units(cost, found.data.mint_decimals)

    async def send(client: Aistm7Client) -> str:
        ix = client.set_service_fee_ix(
            client.payer.pubkey(), name, cost=units, active=active, valid_from=valid_from, valid_to=valid_to
        )
        return str((await client.send([ix])).signature)

    typer.echo(f"{name}: set in {_run_with(rpc_url, keypair, send)}")


@fees_app.command("approve")
def fees_approve(
    amount: str = typer.Argument(..., help="Tokens the fee collector may charge from now on, e.g. 10 (replaces any earlier allowance)."),
    token_account: Optional[str] = TokenAccount,
    rpc_url: str = RpcUrl,
    keypair: Path = WalletKeypairPath,
) -> None:
    """Let the fee collector (a merchant gateway) charge service fees from the
    wallet's token account, up to AMOUNT in total: an SPL Token approval to
    the program's fee delegate, signed by the wallet."""

    async def send(client: Aistm7Client, _: Config, account: Pubkey, units: int) -> str:
        delegate = addresses.fee_delegate_pda(client.program_id)
        result = await client.send([approve_ix(account, delegate, client.payer.pubkey(), units)])
        return f"{client.payer.pubkey()} approved {amount} tokens of {account} to the fee delegate {delegate} in {result.signature}"

    _with_wallet_tokens(rpc_url, keypair, amount, token_account, send)


def _user_ref(reference: str) -> bytes:
    """The 32 bytes stored on-chain for an off-chain user reference: its SHA-256."""
    return hashlib.sha256(reference.encode()).digest()


@wallet_app.command("link")
def wallet_link(
    user: str = typer.Argument(..., help="Off-chain user reference; its SHA-256 is stored, never the text."),
    rpc_url: str = RpcUrl,
    keypair: Path = KeypairPath,
) -> None:
    """Link the wallet (the keypair signs) to an off-chain user."""

    async def send(client: Aistm7Client) -> str:
        return str((await client.send([client.connect_wallet_ix(client.payer.pubkey(), _user_ref(user))])).signature)

    typer.echo(f"linked in {_run_with(rpc_url, keypair, send)}")


@wallet_app.command("address")
def wallet_address(keypair: Path = WalletKeypairPath) -> None:
    """Print the public key of a keypair file."""
    try:
        typer.echo(load_keypair(keypair).pubkey())
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


@wallet_app.command("unlink")
def wallet_unlink(rpc_url: str = RpcUrl, keypair: Path = KeypairPath) -> None:
    """End the wallet's link (the keypair signs); its rent returns to the wallet.
    Refused while the wallet has tokens locked or unlocking within the cooldown."""

    async def send(client: Aistm7Client) -> str:
        return str((await client.send([client.disconnect_wallet_ix(client.payer.pubkey())])).signature)

    typer.echo(f"unlinked in {_run_with(rpc_url, keypair, send)}")


async def _wallet_token(client: Aistm7Client, mint: Pubkey, given: Pubkey | None) -> Pubkey:
    """The signing wallet's token account of `mint`: `given`, else its
    associated one, else its only one."""
    if given is not None:
        return given
    wallet = client.payer.pubkey()
    found = await client.connection.get_token_accounts_by_owner(wallet, TokenAccountOpts(mint=mint), Confirmed)
    accounts = [item.pubkey for item in found.value]
    associated = get_associated_token_address(wallet, mint)
    if associated in accounts:
        return associated
    if len(accounts) == 1:
        return accounts[0]
    held = "none" if not accounts else ", ".join(map(str, accounts))
    raise typer.BadParameter(f"wallet {wallet} token accounts of mint {mint}: {held}; name one", param_hint="--token-account")


def _with_wallet_tokens(
    rpc_url: str,
    keypair: Path,
    amount: str,
    token_account: str | None,
    act: Callable[[Aistm7Client, Config, Pubkey, int], Awaitable[str]],
) -> None:
    """Run `act` as the wallet `keypair` with the config, its token account
    (`token_account` or found) and `amount` in base units; print its line."""
    found, _ = _require_config(rpc_url)
    config = found.data
    units = _units(amount, config.mint_decimals)
    source = _pubkey(token_account)

    async def send(client: Aistm7Client) -> str:
        return await act(client, config, await _wallet_token(client, config.mint, source), units)

    typer.echo(_run_with(rpc_url, keypair, send))


@access_app.command("lock")
def access_lock(
    amount: str = typer.Argument(..., help="Tokens to lock, e.g. 150 or 150.5."),
    token_account: Optional[str] = TokenAccount,
    rpc_url: str = RpcUrl,
    keypair: Path = WalletKeypairPath,
) -> None:
    """Lock tokens of the wallet (the keypair signs) in the program; they count toward its access at once."""

    async def send(client: Aistm7Client, config: Config, account: Pubkey, units: int) -> str:
        result = await client.send([client.lock_tokens_ix(client.payer.pubkey(), config.mint, account, units)])
        (event,) = client.events(result.logs)
        locked = tokens(event.data.locked, config.mint_decimals)
        return f"locked {tokens(units, config.mint_decimals)} tokens from {account} in {result.signature}; {locked} locked now"

    _with_wallet_tokens(rpc_url, keypair, amount, token_account, send)


@access_app.command("unlock")
def access_unlock(
    amount: str = typer.Argument(..., help="Locked tokens to unlock, e.g. 50."),
    rpc_url: str = RpcUrl,
    keypair: Path = WalletKeypairPath,
) -> None:
    """Start unlocking tokens of the wallet (request_unlock); withdraw them after the cooldown.

    They stop counting toward access at once and can be withdrawn with
    `access withdraw` once the cooldown passed. A new request restarts the
    cooldown of everything unlocking."""
    found, _ = _require_config(rpc_url)
    decimals = found.data.mint_decimals
    units = _units(amount, decimals)

    async def send(client: Aistm7Client) -> str:
        result = await client.send([client.request_unlock_ix(client.payer.pubkey(), units)])
        (event,) = client.events(result.logs)
        return (
            f"unlocking {tokens(units, decimals)} tokens in {result.signature}; {tokens(event.data.locked, decimals)} "
            f"locked, {tokens(event.data.unlocking, decimals)} unlocking, withdrawable from {event.data.unlock_at}"
        )

    typer.echo(_run_with(rpc_url, keypair, send))


@access_app.command("withdraw")
def access_withdraw(
    token_account: Optional[str] = TokenAccount,
    rpc_url: str = RpcUrl,
    keypair: Path = WalletKeypairPath,
) -> None:
    """Take back the unlocking tokens whose cooldown passed (withdraw_unlocked).

    An emptied lock closes and its rent returns to the wallet."""
    found, _ = _require_config(rpc_url)
    config = found.data
    destination = _pubkey(token_account)

    async def send(client: Aistm7Client) -> str:
        account = await _wallet_token(client, config.mint, destination)
        result = await client.send([client.withdraw_unlocked_ix(client.payer.pubkey(), config.mint, account)])
        (event,) = client.events(result.logs)
        closed = "; the lock is empty and closed" if event.data.closed else ""
        return f"withdrew {tokens(event.data.amount, config.mint_decimals)} tokens to {account} in {result.signature}{closed}"

    typer.echo(_run_with(rpc_url, keypair, send))


@access_app.command("show")
def access_show(
    wallet: str = typer.Argument(..., help="The wallet's public key."),
    rpc_url: str = RpcUrl,
    as_json: bool = AsJson,
) -> None:
    """A wallet's lock, the effective requirement, and whether it has access now.

    `locked` counts toward access; `unlocking` does not and can be withdrawn
    from `unlock_at`. `has_access` is what verify_access would answer now."""
    owner = _pubkey(wallet)
    assert owner is not None

    async def read(client: Aistm7Client) -> dict[str, object] | None:
        found = await client.fetch_config()
        if found is None:
            return None
        lock = await client.fetch_access_lock(owner)
        now = await client.cluster_time()
        return access_dict(found.data, owner, None if lock is None else lock.data, now, found.slot)

    shown = with_client(rpc_url, Keypair(), read)
    if shown is None:
        typer.echo(f"no config account at {rpc_url}: the program is not initialized", err=True)
        raise typer.Exit(1)
    _print(shown, as_json)


async def _treasury(client: Aistm7Client) -> dict[str, object] | None:
    found = await client.fetch_buyback()
    if found is None:
        return None
    b = found.data
    m = b.metrics
    vault = (await client.connection.get_token_account_balance(b.quote_vault)).value
    config = await client.fetch_config()
    decimals = 0 if config is None else config.data.mint_decimals
    closed = m.orders_completed + m.orders_expired + m.orders_cancelled
    return {
        "slot": found.slot,
        "quote_mint": str(b.quote_mint),
        "quote_vault": str(b.quote_vault),
        "quote_vault_balance": int(vault.amount),
        "last_batch_seq": b.last_batch_seq,
        "revenue_cents": dict(vars(b.revenue)),
        "available_cents": b.available_cents,
        "metrics": dict(vars(m)),
        "average_price_quote_per_token": (
            f"{(Decimal(m.quote_spent) / Decimal(m.tokens_acquired)).scaleb(decimals):f}" if m.tokens_acquired else None
        ),
        "success_rate": None if closed == 0 else m.orders_completed / closed,
        "council": [str(member) for member in b.council],
        "approvals_required": b.params.approvals_required,
        "timelock_secs": b.params.timelock_secs,
    }


@treasury_app.command("show")
def treasury_show(rpc_url: str = RpcUrl, as_json: bool = AsJson) -> None:
    """Revenue per source, what is still available, buy-back metrics and the council."""
    shown = with_client(rpc_url, Keypair(), _treasury)
    if shown is None:
        typer.echo("no buy-order treasury yet", err=True)
        raise typer.Exit(1)
    _print(shown, as_json)


async def _orders(client: Aistm7Client) -> list[BuyOrder]:
    return sorted((BuyOrder.decode(raw) for _, raw in await client.fetch_all("BuyOrder")), key=lambda order: order.id)


@orders_app.command("list")
def buy_orders_list(rpc_url: str = RpcUrl, as_json: bool = AsJson) -> None:
    """Every buy-order account with its budget, fills and status (settled
    orders disappear once closed, 7 days after they settled)."""
    orders = with_client(rpc_url, Keypair(), _orders)
    if as_json:
        typer.echo(json.dumps([vars(order) for order in orders], indent=2, default=str))
        return
    typer.echo(f"{'id':>5} {'status':<10} {'ZAR':>14} {'budget':>16} {'spent':>16} {'tokens':>20} {'limit':>12}")
    for o in orders:
        typer.echo(
            f"{o.id:>5} {o.status:<10} {Decimal(o.zar_allocated_cents).scaleb(-2):>14} {o.quote_budget:>16} "
            f"{o.quote_spent:>16} {o.tokens_acquired:>20} {o.limit_price:>12}"
        )


def _record(journal_path: Path, events: list[RevenueEvent]) -> None:
    journal = open_journal(journal_path)
    try:
        added, duplicates = journal.add(events)
    except ConflictingDuplicate as conflict:
        typer.echo(f"refused, nothing recorded: {conflict}", err=True)
        raise typer.Exit(2) from conflict
    finally:
        journal.close()
    typer.echo(f"added {added}, duplicates {duplicates}")


MaxEventZar = typer.Option(
    "10000000", "--max-event-zar", envvar="AISTM7_MAX_EVENT_ZAR",
    help="Largest accepted event in ZAR (at most the program's 10,000,000).",
)


def _max_cents(zar: str) -> int:
    try:
        return max_event_cents(zar)
    except InvalidRevenue as exc:
        raise typer.BadParameter(f"--max-event-zar: {exc}") from exc


@revenue_app.command("add")
def revenue_add(
    source: str = typer.Option(..., help=f"One of {', '.join(SOURCES)}."),
    amount: str = typer.Option(..., help="ZAR, at most two decimals, e.g. 1499.00."),
    ref: str = typer.Option(..., help="External reference (invoice, payment id); each is recorded once."),
    currency: str = typer.Option("ZAR", help="Only ZAR is accepted."),
    journal: Path = JournalPath,
    max_event_zar: str = MaxEventZar,
) -> None:
    """Journal one revenue event (pushed on-chain by `revenue push` or the daemon)."""
    limit = _max_cents(max_event_zar)
    try:
        event = RevenueEvent.checked(ref, source, amount, currency, max_cents=limit)
    except InvalidRevenue as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    _record(journal, [event])


@revenue_app.command("import")
def revenue_import(
    file: Path = typer.Argument(..., help="CSV with a header: ref,source,amount[,currency][,received_at]."),
    journal: Path = JournalPath,
    max_event_zar: str = MaxEventZar,
) -> None:
    """Journal every row of a CSV file (UTF-8, with or without a BOM); any bad
    row refuses the whole file, naming the row."""
    limit = _max_cents(max_event_zar)
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"ref", "source", "amount"} - set(reader.fieldnames or ())
            if missing:
                raise InvalidRevenue(f"the header must name ref, source and amount (missing: {', '.join(sorted(missing))})")
            events = []
            for row in reader:
                line = reader.line_num
                if None in row or any(value is None for value in row.values()):
                    raise InvalidRevenue(f"row {line}: {len(reader.fieldnames or ())} columns expected")
                currency, received_at = row.get("currency", CURRENCY), row.get("received_at") or None
                try:
                    events.append(RevenueEvent.checked(row["ref"], row["source"], row["amount"], currency, received_at, limit))
                except InvalidRevenue as exc:
                    raise InvalidRevenue(f"row {line}: {exc}") from exc
        if not events:
            raise InvalidRevenue("no rows after the header")
    except UnicodeDecodeError as exc:
        typer.echo(f"refused {file}: not UTF-8 text ({exc.reason} at byte {exc.start})", err=True)
        raise typer.Exit(2) from exc
    except (OSError, csv.Error, InvalidRevenue) as exc:
        typer.echo(f"refused {file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    _record(journal, events)


@revenue_app.command("push")
def revenue_push(rpc_url: str = RpcUrl, keypair: Path = KeypairPath, journal: Path = JournalPath) -> None:
    """Report every journaled event not yet on-chain (signed by the keeper keypair)."""
    store = open_journal(journal)
    try:
        result = _run_with(rpc_url, keypair, lambda client: push_revenue.run(client, store))
    except (PushInProgress, BatchChanged, JournalUnavailable, push_revenue.JournalMismatch) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.close()
    typer.echo(f"pushed in {result.txs} transactions")


@revenue_app.command("show")
def revenue_show(
    journal: Path = JournalPath,
    as_json: bool = AsJson,
    quarantined: bool = typer.Option(False, "--quarantined", help="List the quarantined events instead, with why."),
    voided: bool = typer.Option(False, "--voided", help="List the voided events instead, with why."),
) -> None:
    """Journal totals per source, what is confirmed on-chain, the backlog and
    what is held; or the held events themselves."""
    store = open_journal(journal)
    try:
        if quarantined or voided:
            held = store.held("voided" if voided else "quarantined")
            if as_json:
                typer.echo(json.dumps([vars(event) for event in held], indent=2))
            for event in [] if as_json else held:
                typer.echo(log.escape(
                    f"{event.ref}  {event.source}  {Decimal(event.amount_cents).scaleb(-2)} ZAR  since {event.since}: {event.reason}"
                ))
            return
        totals: dict[str, object] = {**store.totals(), "last_confirmed_batch": store.last_confirmed_seq()}
    finally:
        store.close()
    _print(totals, as_json)


@revenue_app.command("prove")
def revenue_prove(
    ref: str = typer.Argument(..., help="The event's reference."),
    journal: Path = JournalPath,
    out: Optional[Path] = typer.Option(None, "--out", help="Write the proof here instead of printing it."),
) -> None:
    """The inclusion proof of a confirmed event (also an archived one): its
    leaf, the path of hashes and sums up to its batch's root, the batch and
    its transaction, as JSON anyone can check against the chain with
    `aistm7 audit verify-proof` or their own code (README, "Proof of
    revenue"). Exits 2 when the event has no proof, saying why."""
    store = open_journal(journal)
    try:
        proof = proofs.prove(store, ref)
    except proofs.NotProvable as exc:
        typer.echo(log.escape(f"no proof: {exc}"), err=True)
        raise typer.Exit(2) from exc
    finally:
        store.close()
    text = json.dumps(revenue_proof.document(PROGRAM_ID, proof), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        typer.echo(f"wrote the proof of {log.escape(ref)} (batch {proof.batch_seq}) to {out}")


def _repair(journal: Path, action: Callable[[Journal], None], done: str) -> None:
    store = open_journal(journal)
    try:
        action(store)
    except NotRepairable as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        store.close()
    typer.echo(done)


@revenue_app.command("void")
def revenue_void(
    ref: str = typer.Argument(..., help="A quarantined (or not yet batched) event."),
    reason: str = typer.Option(..., "--reason", help="Why it must never be pushed (kept in the audit trail)."),
    journal: Path = JournalPath,
) -> None:
    """Never push this event: it leaves the totals and the quarantine, and the
    audit trail records who voided it and why."""
    if not reason.strip():
        raise typer.BadParameter("--reason must say why")
    _repair(journal, lambda store: store.void(ref, reason), f"voided {ref}")


@revenue_app.command("requeue")
def revenue_requeue(
    ref: str = typer.Argument(..., help="A quarantined event."),
    journal: Path = JournalPath,
) -> None:
    """Send a quarantined event again (after the cause was fixed, e.g. the
    program was unpaused or upgraded); it goes to the end of the backlog."""
    _repair(journal, lambda store: store.requeue(ref), f"requeued {ref}")


def _pubkey(text: Optional[str]) -> Optional[Pubkey]:
    if text is None:
        return None
    try:
        return Pubkey.from_string(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not a public key: {text}") from exc


@keeper_app.callback()
def keeper_options(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(
        None, "--config", envvar="AISTM7_CONFIG", help="TOML file whose [keeper] table sets `keeper run` options."
    ),
) -> None:
    """Options come from flags, then AISTM7_* variables, then the --config file, then defaults."""
    config_table(ctx, config, "keeper")


@keeper_app.command("run")
def keeper_run(
    rpc_url: str = RpcUrl,
    keypair: Path = KeypairPath,
    journal: Path = JournalPath,
    http_host: str = typer.Option("127.0.0.1", envvar="AISTM7_HTTP_HOST", help="Address of the HTTP endpoints."),
    http_port: int = typer.Option(8787, envvar="AISTM7_HTTP_PORT", help="Port of the HTTP endpoints."),
    webhook_secret: Optional[str] = typer.Option(
        None, envvar="AISTM7_WEBHOOK_SECRET", help="HMAC secret of revenue webhooks; without it POST /revenue answers 503."
    ),
    trigger_token: Optional[str] = typer.Option(
        None, envvar="AISTM7_TRIGGER_TOKEN", help="Bearer token of POST /buy-orders/trigger; without it the trigger is refused."
    ),
    token_price: Optional[str] = typer.Option(None, envvar="AISTM7_TOKEN_PRICE", help="The token's Pyth price account."),
    backup_price: Optional[str] = typer.Option(
        None, envvar="AISTM7_BACKUP_PRICE", help="The backup feed's price account; required when the config names a backup feed."
    ),
    usd_zar_price: Optional[str] = typer.Option(None, envvar="AISTM7_USD_ZAR_PRICE", help="The USD/ZAR price account."),
    push_interval: float = typer.Option(30.0, envvar="AISTM7_PUSH_INTERVAL", help="Seconds between revenue pushes."),
    refresh_interval: float = typer.Option(30.0, envvar="AISTM7_REFRESH_INTERVAL", help="Seconds between requirement checks."),
    close_interval: float = typer.Option(
        300.0, envvar="AISTM7_CLOSE_INTERVAL", help="Seconds between sweeps for expired orders and settled ones to close."
    ),
    buyback_cron: str = typer.Option("0 0 * * *", envvar="AISTM7_BUYBACK_CRON", help="When to execute buy-orders (crontab, UTC)."),
    buyback_interval: Optional[float] = typer.Option(
        None, envvar="AISTM7_BUYBACK_INTERVAL", min=1.0,
        help="Execute buy-orders every this many seconds instead of --buyback-cron (a short local schedule).",
    ),
    log_json: bool = typer.Option(False, "--log-json", envvar="AISTM7_LOG_JSON", help="Log one JSON object a line."),
    alert_webhook: Optional[str] = typer.Option(None, envvar="AISTM7_ALERT_WEBHOOK", help="URL alerts are POSTed to."),
    alert_price_bps: int = typer.Option(500, envvar="AISTM7_ALERT_PRICE_BPS", help="Price move that alerts (bps)."),
    alert_requirement_bps: int = typer.Option(
        1_000, envvar="AISTM7_ALERT_REQUIREMENT_BPS", help="Requirement move that alerts (bps)."
    ),
    priority_fee: bool = typer.Option(
        True, "--priority-fee/--no-priority-fee", envvar="AISTM7_PRIORITY_FEE", help="Pay the 75th percentile of recent priority fees."
    ),
    push_linger: float = typer.Option(
        2.0, envvar="AISTM7_PUSH_LINGER", min=0.0,
        help="Seconds a partial batch waits for more events (a full batch of 32 goes at once).",
    ),
    max_event_zar: str = MaxEventZar,
    signature_tolerance: int = typer.Option(
        DEFAULT_TOLERANCE_SECS, envvar="AISTM7_SIGNATURE_TOLERANCE", min=1,
        help="Seconds a webhook signature's timestamp may be from now.",
    ),
    health_max_age: float = typer.Option(
        DEFAULT_MAX_AGE_SECS, envvar="AISTM7_HEALTH_MAX_AGE", min=1.0,
        help="/health fails when a batch fails, an event stays quarantined or unpushed, or a push has not succeeded, this long.",
    ),
) -> None:
    """Run the keeper daemon until SIGINT or SIGTERM (jobs in flight finish first).

    Jobs: push_revenue (journal -> report_revenue), refresh_requirement and
    execute_buy_order (when the price accounts are given; each simulated first,
    so a no-op sends nothing), close_expired_orders, close_settled_orders (the
    keeper's own settled orders once their 7-day retention passed: the rent
    comes back), price_alerts (price or
    requirement moves past a threshold: a warning and a webhook POST). HTTP: POST /revenue
    (webhooks signed `t=..,v1=..`, see keeper/webhook.py), GET /revenue, /status, /buy-orders, /health,
    /metrics (Prometheus), POST /buy-orders/trigger (bearer token); see
    keeper/openapi.yaml."""
    log.configure(log_json)
    settings = DaemonSettings(
        rpc_url=rpc_url,
        keypair=keypair,
        journal=journal,
        http_host=http_host,
        http_port=http_port,
        webhook_secret=None if webhook_secret is None else webhook_secret.encode(),
        push_interval_secs=push_interval,
        trigger_token=trigger_token,
        token_price=_pubkey(token_price),
        backup_price=_pubkey(backup_price),
        usd_zar_price=_pubkey(usd_zar_price),
        refresh_interval_secs=refresh_interval,
        buyback_cron=buyback_cron,
        buyback_interval_secs=buyback_interval,
        close_interval_secs=close_interval,
        priority_fee=priority_fee,
        alert_webhook=alert_webhook,
        alert_price_bps=alert_price_bps,
        alert_requirement_bps=alert_requirement_bps,
        push_linger_secs=push_linger,
        max_event_cents=_max_cents(max_event_zar),
        signature_tolerance_secs=signature_tolerance,
        health=HealthPolicy(max_age_secs=health_max_age),
    )
    try:
        asyncio.run(daemon.run(settings))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
