"""A validator stopped and started again on the same `--ledger` resumes the
same chain: genesis, faucet, balances, program accounts and history survive,
and the keeper's revenue journal still agrees with the program. A second
validator on a ledger in use is refused."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import httpx
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.signature import Signature

from keeper.client import Aistm7Client
from keeper.jobs import push_revenue
from keeper.journal import Journal, RevenueEvent
from tests.conftest import NATIVE_VALIDATOR, SOL, Roles, airdrop, deploy_with_treasury, launch_validator


def rpc(rpc_url: str, method: str, *params: Any) -> Any:
    body = httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=30)
    return body.json()["result"]


def chain_facts(rpc_url: str, keys: list[str], program: str, signature: str) -> dict[str, Any]:
    """What must survive a restart, read at the confirmed commitment."""
    confirmed = {"commitment": "confirmed"}
    accounts = rpc(rpc_url, "getMultipleAccounts", keys, {**confirmed, "encoding": "base64"})["value"]
    program_accounts = rpc(rpc_url, "getProgramAccounts", program, {**confirmed, "encoding": "base64"})
    transaction = rpc(rpc_url, "getTransaction", signature, {**confirmed, "maxSupportedTransactionVersion": 0})
    return {
        "genesis": rpc(rpc_url, "getGenesisHash"),
        "accounts": accounts,
        "program_accounts": sorted(program_accounts, key=lambda keyed: keyed["pubkey"]),
        "transaction": (transaction["slot"], transaction["meta"]["logMessages"]),
        "status": rpc(rpc_url, "getSignatureStatuses", [signature])["value"][0]["err"],
    }


def test_a_restart_with_the_same_ledger_resumes_the_chain(xprocess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ledger = tmp_path / "ledger"
    rpc_url = launch_validator(xprocess, "restart", ledger)
    deployer, roles = Keypair(), Roles(Keypair(), Keypair(), Keypair(), Keypair(), Keypair())
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.add([RevenueEvent.checked("INV-1", "course_sale", "1499.00"), RevenueEvent.checked("INV-2", "other", "5")])

    async def before_restart() -> str:
        client = Aistm7Client.connect(rpc_url, deployer)
        try:
            for key in (deployer, roles.admin, roles.keeper):
                await airdrop(client, key.pubkey(), 10 * SOL)
            await deploy_with_treasury(client, roles)
        finally:
            await client.close()
        keeper = Aistm7Client.connect(rpc_url, roles.keeper)
        try:
            assert (await push_revenue.run(keeper, journal)).txs == 1
            row = journal.db.execute("SELECT signature FROM batches WHERE seq = 1").fetchone()
            assert row is not None and row[0]
            return str(row[0])
        finally:
            await keeper.close()

    signature = asyncio.run(before_restart())
    keys = [str(k.pubkey()) for k in (deployer, roles.admin, roles.keeper)]
    program = str(Aistm7Client.connect(rpc_url, deployer).program_id)
    before = chain_facts(rpc_url, keys, program, signature)
    faucet = (ledger / "faucet-keypair.json").read_text()

    second = subprocess.run(
        [str(NATIVE_VALIDATOR), "--rpc-port", "1", "--ledger", str(ledger)], capture_output=True, text=True, timeout=60
    )
    assert second.returncode != 0 and "in use by another aistm7-localnet" in second.stderr

    xprocess.getinfo("restart").terminate()
    rpc_url = launch_validator(xprocess, "restart", ledger, reset=False)
    try:
        after = chain_facts(rpc_url, keys, program, signature)
        assert after == before
        assert (ledger / "faucet-keypair.json").read_text() == faucet
        assert rpc(rpc_url, "getHighestSnapshotSlot")["full"] >= before["transaction"][0]

        async def after_restart() -> None:
            keeper = Aistm7Client.connect(rpc_url, roles.keeper)
            try:
                # Nothing new: the journal agrees with the program as it is.
                assert (await push_revenue.run(keeper, journal)).txs == 0
                journal.add([RevenueEvent.checked("INV-3", "subscription", "99.99")])
                assert (await push_revenue.run(keeper, journal)).txs == 1
                status = await keeper.connection.get_signature_statuses([Signature.from_string(signature)])
                assert status.value[0] is not None
                latest = await keeper.connection.get_latest_blockhash(Confirmed)
                assert latest.value.last_valid_block_height > 0
            finally:
                await keeper.close()

        asyncio.run(after_restart())
    finally:
        xprocess.getinfo("restart").terminate()
