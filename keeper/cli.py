"""`aistm7`: read program state and run the keeper daemon.

Every option can also come from the environment (AISTM7_RPC_URL, AISTM7_KEYPAIR)."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
import typer
from loguru import logger
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair

from keeper.client import Aistm7Client
from keeper.config import DEFAULT_KEYPAIR, DEFAULT_RPC_URL, Settings
from keeper.deploy import load_or_create_keypair
from keeper.state import Config

app = typer.Typer(help="AISTM7 token system: program state and the keeper daemon.", no_args_is_help=True)
config_app = typer.Typer(help="The program's config account.", no_args_is_help=True)
keeper_app = typer.Typer(help="The keeper daemon.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(keeper_app, name="keeper")

RpcUrl = typer.Option(DEFAULT_RPC_URL, "--rpc-url", envvar="AISTM7_RPC_URL", help="JSON-RPC endpoint.")
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


async def _read_config(rpc_url: str) -> dict[str, object] | None:
    client = Aistm7Client(AsyncClient(rpc_url, Confirmed), Keypair())
    try:
        found = await client.fetch_config()
    finally:
        await client.close()
    return None if found is None else _config_dict(found.data, found.slot)


@config_app.command("show")
def config_show(
    rpc_url: str = RpcUrl,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print the config: mint, treasury vault and every authority."""
    shown = asyncio.run(_read_config(rpc_url))
    if shown is None:
        typer.echo(f"no config account at {rpc_url}: the program is not initialized", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    roles = shown.pop("authorities")
    assert isinstance(roles, dict)
    for key, value in [*shown.items(), *roles.items()]:
        typer.echo(f"{key:<16}{value}")


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
