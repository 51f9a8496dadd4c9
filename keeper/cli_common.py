"""Options and helpers every `aistm7` command group shares."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

import typer
from solders.keypair import Keypair

from keeper.client import Aistm7Client
from keeper.journal import Journal, JournalUnavailable
from keeper.config import DEFAULT_JOURNAL, DEFAULT_RPC_URL

T = TypeVar("T")

RpcUrl = typer.Option(DEFAULT_RPC_URL, "--rpc-url", envvar="AISTM7_RPC_URL", help="JSON-RPC endpoint.")
JournalPath = typer.Option(DEFAULT_JOURNAL, "--journal", envvar="AISTM7_JOURNAL", help="Revenue journal (SQLite).")
AsJson = typer.Option(False, "--json", help="Print JSON instead of a table.")


def config_table(ctx: typer.Context, config: Path | None, table: str) -> None:
    """The `[table]` of the TOML file `config` as the defaults of the group's
    `run` command (keys with - or _)."""
    if config is None:
        return
    try:
        values = tomllib.loads(config.read_text()).get(table, {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise typer.BadParameter(f"{config}: {exc}") from exc
    ctx.default_map = {"run": {key.replace("-", "_"): value for key, value in values.items()}}


def open_journal(path: Path) -> Journal:
    """The journal at `path`; one SQLite cannot read is a clean exit 2."""
    try:
        return Journal(path)
    except JournalUnavailable as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc


def with_client(rpc_url: str, signer: Keypair, action: Callable[[Aistm7Client], Awaitable[T]]) -> T:
    """Run `action` with a client signing as `signer` (any key for reads)."""

    async def run() -> T:
        client = Aistm7Client.connect(rpc_url, signer)
        try:
            return await action(client)
        finally:
            await client.close()

    return asyncio.run(run())
