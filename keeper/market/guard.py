"""The local market only runs on a local validator: never against a
cluster whose genesis is a public one, and only where mock_pyth answers at
the Pyth receiver's address (a real cluster has Pyth's own program there)."""

from __future__ import annotations

from keeper import addresses
from keeper.client import Aistm7Client

PUBLIC_GENESIS = {
    "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d": "mainnet-beta",
    "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG": "devnet",
    "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY": "testnet",
}


class NotLocal(RuntimeError):
    """The RPC serves a cluster the local market must not touch."""


async def require_local(client: Aistm7Client) -> None:
    genesis = str((await client.connection.get_genesis_hash()).value)
    if genesis in PUBLIC_GENESIS:
        raise NotLocal(f"the RPC serves {PUBLIC_GENESIS[genesis]}: the local market runs on local validators only")
    receiver = (await client.connection.get_account_info(addresses.PYTH_RECEIVER_ID)).value
    if receiver is None or not receiver.executable:
        raise NotLocal("no mock_pyth program at the Pyth receiver's address: not a local validator of this project")
