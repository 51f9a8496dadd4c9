"""`aistm7 market`: the local market for localnets (see keeper/market)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from keeper import log
from keeper.cli_common import RpcUrl, config_table
from keeper.market import runner
from keeper.market.guard import NotLocal
from keeper.market.prices import PricePath, RandomWalk, Replay

market_app = typer.Typer(
    help="A local market for localnets: price feeds, simulated sales, a seller filling buy-orders.",
    no_args_is_help=True,
)
StateDir = typer.Option(..., "--state-dir", envvar="AISTM7_STATE", help="The deployment's state directory (migrations/deploy.py --state-dir).")


@market_app.callback()
def market_options(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(
        None, "--config", envvar="AISTM7_CONFIG", help="TOML file whose [market] table sets `market run` options."
    ),
) -> None:
    """Options come from flags, then AISTM7_* variables, then the --config file, then defaults."""
    config_table(ctx, config, "market")


@market_app.command("accounts")
def market_accounts(state_dir: Path = StateDir) -> None:
    """Print the token's and the USD/ZAR price accounts (made once), for the
    keeper's --token-price and --usd-zar-price."""
    token, usd_zar = runner.price_accounts(state_dir)
    typer.echo(f"{token.pubkey()} {usd_zar.pubkey()}")


@market_app.command("run")
def market_run(
    state_dir: Path = StateDir,
    rpc_url: str = RpcUrl,
    feeder: bool = typer.Option(True, "--feeder/--no-feeder", help="Write the token and USD/ZAR feeds through mock_pyth."),
    sales: bool = typer.Option(True, "--sales/--no-sales", help="Post simulated revenue webhooks to the keeper."),
    seller: bool = typer.Option(True, "--seller/--no-seller", help="Fill open buy-orders at the oracle price."),
    keeper_url: str = typer.Option("http://127.0.0.1:8787", envvar="AISTM7_KEEPER_URL", help="The keeper's HTTP endpoints."),
    secret_file: Optional[Path] = typer.Option(None, envvar="AISTM7_WEBHOOK_SECRET_FILE", help="The keeper's webhook secret (a file)."),
    price_csv: Optional[Path] = typer.Option(
        None, "--price-csv", help="Replay this price path (header seconds,token_usd,usd_zar) instead of a random walk."
    ),
    seed: int = typer.Option(7, help="Seed of the random walk and of the sales."),
    token_usd: float = typer.Option(0.01, min=1e-6, help="The random walk's starting token price (USD)."),
    volatility: float = typer.Option(0.002, min=0.0, max=0.05, help="Standard deviation of one step's log-return."),
    mean_jump_secs: float = typer.Option(30.0, min=1.0, help="Mean seconds between jumps over the 1% threshold."),
    feed_interval: float = typer.Option(2.0, min=0.2, help="Seconds between price writes (the walk's step)."),
    sales_per_sec: float = typer.Option(1.0, min=0.01, max=100.0, help="Mean simulated sales a second."),
    sales_max: Optional[int] = typer.Option(None, min=1, help="Stop selling after this many sales the keeper accepted."),
    seller_interval: float = typer.Option(5.0, min=0.5, help="Seconds between the seller's looks at open orders."),
    seller_tokens: int = typer.Option(1_000_000, min=0, help="Whole tokens the seller keeps in hand."),
    summary_interval: float = typer.Option(60.0, min=1.0, help="Seconds between summary lines."),
    log_json: bool = typer.Option(False, "--log-json", help="Log one JSON object a line."),
) -> None:
    """Run the local market until SIGINT or SIGTERM. Refused on any public
    cluster, and wherever mock_pyth is not deployed."""
    log.configure(log_json)
    path: PricePath
    try:
        path = Replay.load(price_csv) if price_csv is not None else RandomWalk(
            seed=seed, token_usd=token_usd, step_secs=feed_interval, volatility=volatility, mean_jump_secs=mean_jump_secs
        )
        secret = None if secret_file is None else secret_file.read_text().strip().encode()
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = runner.MarketSettings(
        rpc_url=rpc_url, state_dir=state_dir, path=path, feeder=feeder, sales=sales, seller=seller,
        keeper_url=keeper_url, secret=secret, feed_interval_secs=feed_interval, sales_per_sec=sales_per_sec,
        sales_max=sales_max,
        seed=seed, seller_interval_secs=seller_interval, seller_tokens=seller_tokens,
        summary_interval_secs=summary_interval,
    )
    try:
        asyncio.run(runner.run(settings))
    except (NotLocal, ValueError, RuntimeError) as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
