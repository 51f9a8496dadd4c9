"""`aistm7 market run`: set up the local market's accounts, then run the
feeder, the sales simulator and the seller side by side, with a summary line
every `summary_interval_secs`, until SIGINT or SIGTERM.

Its keys live in the deployment's state directory (the one
`migrations/deploy.py --state-dir` wrote): the deployer pays and, as the
program's admin, mints the seller's tokens; `token-price.json` and
`usd-zar-price.json` are the price accounts the keeper reads. Once the
first prices are written, `market.ready` holds their addresses."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from pathlib import Path

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from spl.token.constants import ACCOUNT_LEN
from spl.token._layouts import ACCOUNT_LAYOUT, MINT_LAYOUT

from keeper.client import Aistm7Client
from keeper.deploy import load_keypair, load_or_create_keypair
from keeper.market import summary
from keeper.market.feeder import Feeder
from keeper.market.guard import require_local
from keeper.market.prices import PricePath
from keeper.market.sales import Sales
from keeper.market.seller import Seller
from keeper.token import create_token_account_ixs

SELLER_LAMPORTS = 10**9


@dataclass(frozen=True)
class MarketSettings:
    rpc_url: str
    state_dir: Path
    path: PricePath
    feeder: bool = True
    sales: bool = True
    seller: bool = True
    keeper_url: str = "http://127.0.0.1:8787"
    secret: bytes | None = None
    feed_interval_secs: float = 2.0
    sales_per_sec: float = 1.0
    sales_max: int | None = None
    seed: int = 11
    seller_interval_secs: float = 5.0
    seller_tokens: int = 1_000_000
    """Whole tokens the seller keeps in hand (minted by the admin within the max supply)."""
    summary_interval_secs: float = 60.0


def price_accounts(state_dir: Path) -> tuple[Keypair, Keypair]:
    """The token's and the USD/ZAR price accounts (keypairs made once)."""
    return load_or_create_keypair(state_dir / "token-price.json"), load_or_create_keypair(state_dir / "usd-zar-price.json")


async def _token_account(client: Aistm7Client, path: Path, mint: Pubkey, owner: Pubkey) -> Pubkey:
    account = load_or_create_keypair(path)
    if (await client.connection.get_account_info(account.pubkey(), Confirmed)).value is None:
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(ACCOUNT_LEN)).value
        await client.send(create_token_account_ixs(client.payer.pubkey(), account.pubkey(), mint, owner, rent), [account])
    return account.pubkey()


async def _balance(client: Aistm7Client, account: Pubkey) -> int:
    found = (await client.connection.get_account_info(account, Confirmed)).value
    return 0 if found is None else int(ACCOUNT_LAYOUT.parse(bytes(found.data)).amount)


async def prepare_seller(admin: Aistm7Client, settings: MarketSettings, token_price: Pubkey, usd_zar_price: Pubkey) -> Seller:
    """The seller's key, SOL, token and quote accounts, and tokens in hand."""
    log = logger.bind(job="seller")
    config, buyback = await admin.fetch_config(), await admin.fetch_buyback()
    if config is None or buyback is None:
        raise RuntimeError("deploy first: the config and the buy-order treasury must exist (migrations/deploy.py --local-quote)")
    seller = load_or_create_keypair(settings.state_dir / "seller.json")
    if (await admin.connection.get_balance(seller.pubkey(), Confirmed)).value < SELLER_LAMPORTS // 2:
        await admin.send([transfer(TransferParams(from_pubkey=admin.payer.pubkey(), to_pubkey=seller.pubkey(), lamports=SELLER_LAMPORTS))])
    c = config.data
    token_account = await _token_account(admin, settings.state_dir / "seller-token.json", c.mint, seller.pubkey())
    quote_account = await _token_account(admin, settings.state_dir / "seller-quote.json", buyback.data.quote_mint, seller.pubkey())
    wanted = settings.seller_tokens * 10**c.mint_decimals
    held = await _balance(admin, token_account)
    if held < wanted // 2:
        mint = (await admin.connection.get_account_info(c.mint, Confirmed)).value
        assert mint is not None
        headroom = c.token_params.max_supply - int(MINT_LAYOUT.parse(bytes(mint.data)).supply)
        amount = min(wanted - held, headroom)
        if amount > 0:
            await admin.send([admin.mint_to_ix(admin.payer.pubkey(), c.mint, token_account, amount)])
            log.info("minted {} base units to the seller {}", amount, seller.pubkey())
        else:
            log.warning("no room under the max supply to mint the seller's tokens (deploy with --initial-supply-tokens below it)")
    client = Aistm7Client.connect(settings.rpc_url, seller)
    return Seller(
        client, c.mint, c.mint_decimals, buyback.data.quote_mint, token_account, quote_account,
        token_price, usd_zar_price, settings.seller_interval_secs,
    )


async def run(settings: MarketSettings) -> None:
    log = logger.bind(job="market")
    deployer = load_keypair(settings.state_dir / "deployer.json")
    admin = Aistm7Client.connect(settings.rpc_url, deployer)
    token_price, usd_zar_price = price_accounts(settings.state_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task[None]] = []
    seller: Seller | None = None
    try:
        await require_local(admin)
        feeder = Feeder.local(admin, settings.path, token_price, usd_zar_price, settings.feed_interval_secs)
        ready = settings.state_dir / "market.ready"
        ready.unlink(missing_ok=True)
        if settings.feeder:
            await feeder.write()  # prices exist before anyone reads them
            tasks.append(asyncio.create_task(feeder.run(stop)))
        ready.write_text(f"{token_price.pubkey()} {usd_zar_price.pubkey()}\n")
        sales = None
        if settings.sales:
            if settings.secret is None:
                raise ValueError("the sales simulator needs the keeper's webhook secret")
            sales = Sales(
                f"{settings.keeper_url}/revenue", settings.secret, settings.sales_per_sec, settings.seed,
                settings.sales_max, settings.state_dir / "market-sales.json",
            )
            tasks.append(asyncio.create_task(sales.run(stop)))
        if settings.seller:
            seller = await prepare_seller(admin, settings, token_price.pubkey(), usd_zar_price.pubkey())
            tasks.append(asyncio.create_task(seller.run(stop)))
        log.info(
            "local market: feeder {}, sales {}, seller {}; price accounts {} (token) {} (USD/ZAR)",
            "on" if settings.feeder else "off", "on" if settings.sales else "off", "on" if settings.seller else "off",
            token_price.pubkey(), usd_zar_price.pubkey(),
        )
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), settings.summary_interval_secs)
            except asyncio.TimeoutError:
                pass
            try:
                text = await summary.line(admin, feeder.last, None if sales is None else sales.cents)
                logger.bind(job="summary").info("{}", text)
            except Exception as exc:  # the summary must not stop the market
                log.warning("summary failed: {}", exc)
        log.info("stopping")
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if seller is not None:
            await seller.client.close()
        await admin.close()
