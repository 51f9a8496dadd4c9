"""`aistm7`: read program state and run the keeper daemon.

Every option can also come from the environment (AISTM7_RPC_URL, AISTM7_KEYPAIR)."""

from __future__ import annotations

import asyncio
import json
import signal
from decimal import Decimal
from pathlib import Path
import typer
from loguru import logger
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair

from keeper.client import Aistm7Client
from keeper.config import DEFAULT_KEYPAIR, DEFAULT_RPC_URL, Settings
from keeper.deploy import load_or_create_keypair
from keeper.state import Config, DataAndSlot

app = typer.Typer(help="AISTM7 token system: program state and the keeper daemon.", no_args_is_help=True)
config_app = typer.Typer(help="The program's config account.", no_args_is_help=True)
requirement_app = typer.Typer(help="The access requirement.", no_args_is_help=True)
keeper_app = typer.Typer(help="The keeper daemon.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(requirement_app, name="requirement")
app.add_typer(keeper_app, name="keeper")

RpcUrl = typer.Option(DEFAULT_RPC_URL, "--rpc-url", envvar="AISTM7_RPC_URL", help="JSON-RPC endpoint.")
AsJson = typer.Option(False, "--json", help="Print JSON instead of a table.")
KeypairPath = typer.Option(
    DEFAULT_KEYPAIR, "--keypair", envvar="AISTM7_KEYPAIR", help="Keeper keypair (solana-keygen JSON)."
)


def _config_dict(config: Config, slot: int) -> dict[str, object]:
    roles = config.authorities
    return {
        "slot": slot,
        "version": config.version,
        "mint": str(config.mint),
        "treasury_vault": str(config.treasury_vault),
        "authorities": {
            "admin": str(roles.admin),
            "guardian": str(roles.guardian),
            "keeper": str(roles.keeper),
            "fee_collector": str(roles.fee_collector),
            "rewarder": str(roles.rewarder),
        },
    }


async def _read_config(rpc_url: str) -> tuple[DataAndSlot[Config], int] | None:
    """The config and the cluster time, or None when not initialized."""
    client = Aistm7Client(AsyncClient(rpc_url, Confirmed), Keypair())
    try:
        found = await client.fetch_config()
        now = await client.cluster_time()
    finally:
        await client.close()
    return None if found is None else (found, now)


def _require_config(rpc_url: str) -> tuple[DataAndSlot[Config], int]:
    read = asyncio.run(_read_config(rpc_url))
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
    """Print the config: mint, treasury vault and every authority."""
    found, _ = _require_config(rpc_url)
    _print(_config_dict(found.data, found.slot), as_json)


def _tokens(units: int, decimals: int) -> str:
    """Base units as a decimal token amount, every digit kept."""
    return f"{Decimal(units).scaleb(-decimals).normalize():f}"


def requirement_dict(config: Config, now: int, slot: int) -> dict[str, object]:
    """The effective requirement, the price that set it and its age."""
    state = config.requirement
    decimals = config.mint_decimals
    effective = state.effective(now)
    override = state.emergency_override
    override_active = override is not None and now < override.expires_at
    return {
        "slot": slot,
        "cluster_time": now,
        "effective_units": effective,
        "effective_tokens": None if effective is None else _tokens(effective, decimals),
        "set_by": "override" if override_active else ("price" if state.required else "nothing yet"),
        "computed_units": state.required,
        "price": state.price,
        "expo": state.expo,
        "price_usd": f"{Decimal(state.price).scaleb(state.expo):f}" if state.required else None,
        "source": state.source,
        "publish_time": state.publish_time,
        "price_age_secs": now - state.publish_time if state.required else None,
        "updated_at": state.updated_at,
        "breaker_tripped": state.breaker_tripped,
        "paused": config.paused,
        "override": None if override is None else {"units": override.amount, "expires_at": override.expires_at},
        "params": dict(vars(config.requirement_params)),
    }


@requirement_app.command("show")
def requirement_show(
    rpc_url: str = RpcUrl,
    as_json: bool = AsJson,
) -> None:
    """Print the effective requirement, the price that set it and its age."""
    found, now = _require_config(rpc_url)
    _print(requirement_dict(found.data, now, found.slot), as_json)


async def _watch(settings: Settings, interval: float, stop: asyncio.Event) -> None:
    log = logger.bind(job="watch")
    keypair = load_or_create_keypair(settings.keypair_path)
    client = Aistm7Client.connect(settings.rpc_url, keypair)
    log.info("keeper {} watching {} at {}", keypair.pubkey(), client.config_address(), settings.rpc_url)
    last: dict[str, object] | None = None
    try:
        while not stop.is_set():
            try:
                found = await client.fetch_config()
                if found is None:
                    log.warning("config not initialized yet")
                else:
                    current = _config_dict(found.data, found.slot)
                    slot = current.pop("slot")
                    if current != last:
                        log.info("config at slot {}: {}", slot, json.dumps(current))
                        last = current
            except Exception as exc:  # an RPC outage must not end the daemon
                log.error("reading config failed: {}", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
    finally:
        await client.close()
        log.info("stopped")


@keeper_app.command("run")
def keeper_run(
    rpc_url: str = RpcUrl,
    keypair: Path = KeypairPath,
    interval: float = typer.Option(10.0, "--interval", envvar="AISTM7_INTERVAL", help="Seconds between polls."),
) -> None:
    """Run the keeper until SIGINT or SIGTERM; the step in flight finishes first."""
    settings = Settings.from_env(rpc_url, keypair)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await _watch(settings, interval, stop)

    asyncio.run(main())
