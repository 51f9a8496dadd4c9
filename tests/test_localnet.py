"""The local validator's JSON-RPC surface: the shapes solana-py relies on,
errors in agave's codes, and the rules a real validator enforces."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
from typing import Any

import httpx
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed, Finalized
from solana.rpc.types import MemcmpOpts, TokenAccountOpts
from spl.token import instructions as spl_token
from spl.token.constants import TOKEN_PROGRAM_ID
from solders.compute_budget import set_compute_unit_price
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from bench.simulation_soak import soak
from keeper import addresses
from keeper.client import Aistm7Client
from keeper.deploy import Deployment
from tests.conftest import SOL, Roles, advance, airdrop, signed_transfer, token_account

CLOCK_SYSVAR = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")


def call(rpc_url: str, body: Any) -> dict[str, Any]:
    raw = body if isinstance(body, (bytes, str)) else None
    response = httpx.post(rpc_url, content=raw, json=None if raw is not None else body, timeout=30)
    assert response.status_code == 200
    return response.json()


def rpc(rpc_url: str, method: str, *params: Any) -> dict[str, Any]:
    return call(rpc_url, {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)})


def rpc_error(rpc_url: str, method: str, *params: Any) -> dict[str, Any]:
    error: dict[str, Any] = rpc(rpc_url, method, *params)["error"]
    return error


def test_malformed_requests_get_json_rpc_errors_and_the_server_keeps_serving(rpc_url: str) -> None:
    assert call(rpc_url, b"{not json")["error"]["code"] == -32700
    assert rpc(rpc_url, "noSuchMethod")["error"]["code"] == -32601
    assert call(rpc_url, {"id": 1, "method": "getSlot"})["error"]["code"] == -32600
    assert call(rpc_url, [])["error"]["code"] == -32600
    assert rpc(rpc_url, "getBalance", "not-a-key")["error"]["code"] == -32602
    assert rpc(rpc_url, "getBalance")["error"]["code"] == -32602
    too_big = httpx.post(rpc_url, content=b" " * (60 * 1024), timeout=30)
    assert too_big.status_code == 413

    assert rpc(rpc_url, "getHealth")["result"] == "ok"
    batch = call(rpc_url, [{"jsonrpc": "2.0", "id": 1, "method": "getSlot"}, {"jsonrpc": "2.0", "id": 2, "method": "x"}])
    assert [reply["id"] for reply in batch] == [1, 2]
    assert isinstance(batch[0]["result"], int) and batch[1]["error"]["code"] == -32601


def test_many_clients_at_once_are_all_answered_promptly(rpc_url: str) -> None:
    """Bursts of new keep-alive connections (an auditor's 16 parallel
    getTransaction calls, several processes at once) are all served."""

    async def burst(size: int) -> None:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        async with httpx.AsyncClient(limits=limits, timeout=5) as client:
            body = {"jsonrpc": "2.0", "id": 1, "method": "getSlot"}
            replies = await asyncio.gather(*(client.post(rpc_url, json=body) for _ in range(size)))
            assert all("result" in reply.json() for reply in replies)

    async def bursts() -> None:
        for size in (16, 32, 64) * 20:
            await burst(size)

    asyncio.run(bursts())


def test_cluster_methods_answer_in_solana_shapes(rpc_url: str) -> None:
    version = rpc(rpc_url, "getVersion")["result"]
    assert "solana-core" in version
    latest = rpc(rpc_url, "getLatestBlockhash")["result"]
    assert latest["value"]["lastValidBlockHeight"] > rpc(rpc_url, "getBlockHeight")["result"]
    assert len(rpc(rpc_url, "getGenesisHash")["result"]) >= 32
    epoch = rpc(rpc_url, "getEpochInfo")["result"]
    assert epoch["absoluteSlot"] >= latest["context"]["slot"]
    assert rpc(rpc_url, "getMinimumBalanceForRentExemption", 165)["result"] == 2_039_280


async def test_a_tampered_signature_is_rejected_and_nothing_moves(rpc_url: str, deployer: Keypair) -> None:
    connection = AsyncClient(rpc_url, Confirmed)
    receiver = Keypair().pubkey()
    blockhash = (await connection.get_latest_blockhash()).value.blockhash
    tx = signed_transfer(deployer, receiver, 5_000_000, blockhash)
    raw = bytearray(bytes(tx))
    raw[1 + 10] ^= 0xFF  # flip a byte of the first signature

    reply = rpc(rpc_url, "sendTransaction", base64.b64encode(bytes(raw)).decode(), {"encoding": "base64"})

    assert reply["error"]["code"] == -32003
    await asyncio.sleep(1)
    assert (await connection.get_balance(receiver)).value == 0
    await connection.close()


async def test_a_blockhash_stays_valid_for_many_slots(rpc_url: str, deployer: Keypair) -> None:
    connection = AsyncClient(rpc_url, Confirmed)
    receiver = Keypair().pubkey()
    latest = (await connection.get_latest_blockhash()).value
    slot = (await connection.get_slot()).value

    # Longer than program-test's ~1 s blockhash lifetime, across several slots.
    await asyncio.sleep(3)
    assert (await connection.get_slot()).value >= slot + 5
    assert rpc(rpc_url, "isBlockhashValid", str(latest.blockhash), {"commitment": "confirmed"})["result"]["value"] is True
    signature = (await connection.send_raw_transaction(bytes(signed_transfer(deployer, receiver, 1_000_000, latest.blockhash)))).value
    await connection.confirm_transaction(signature, Confirmed)

    assert (await connection.get_balance(receiver)).value == 1_000_000
    await connection.close()


async def test_a_failed_transaction_reports_logs_and_the_instruction_error(rpc_url: str, deployer: Keypair) -> None:
    connection = AsyncClient(rpc_url, Confirmed)
    poor = Keypair()
    blockhash = (await connection.get_latest_blockhash()).value.blockhash
    # Fee paid by the deployer, transfer from an account with nothing in it.
    ix = transfer(TransferParams(from_pubkey=poor.pubkey(), to_pubkey=deployer.pubkey(), lamports=1))
    tx = Transaction.new_signed_with_payer([ix], deployer.pubkey(), [deployer, poor], blockhash)

    config = {"encoding": "base64", "preflightCommitment": "confirmed"}
    reply = rpc(rpc_url, "sendTransaction", base64.b64encode(bytes(tx)).decode(), config)

    error = reply["error"]
    assert error["code"] == -32002
    assert error["message"].startswith("Transaction simulation failed")
    assert error["data"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient lamports" in line for line in error["data"]["logs"])
    await connection.close()


async def test_clock_moves_forward_on_request(rpc_url: str) -> None:
    connection = AsyncClient(rpc_url, Confirmed)

    async def clock() -> tuple[int, int]:
        data = (await connection.get_account_info(CLOCK_SYSVAR)).value.data
        slot, _, _, _, unix_timestamp = struct.unpack("<QqQQq", data[:40])
        return slot, unix_timestamp

    slot, before = await clock()
    moved = rpc(rpc_url, "advanceClock", 3600)["result"]
    after_slot, after = await clock()

    assert after - before >= 3600
    assert after_slot >= slot + 9000
    assert moved["unixTimestamp"] <= after
    # The chain keeps producing after the jump.
    await asyncio.sleep(1)
    assert (await clock())[0] > after_slot
    await connection.close()


async def test_history_and_account_scans_find_the_deployment(
    rpc_url: str, client: Aistm7Client, deployment: Deployment
) -> None:
    assert deployment.initialize is not None
    signature = deployment.initialize.signature
    connection = client.connection

    found = (await connection.get_transaction(signature, "json", Confirmed, 0)).value
    history = (await connection.get_signatures_for_address(deployment.config, limit=1000)).value
    owned = (await connection.get_program_accounts(addresses.PROGRAM_ID, Confirmed, "base64")).value
    by_mint = (
        await connection.get_program_accounts(
            addresses.PROGRAM_ID, Confirmed, "base64", filters=[MemcmpOpts(offset=8 + 1 + 5 * 32, bytes=str(deployment.mint))]
        )
    ).value
    none_match = (
        await connection.get_program_accounts(addresses.PROGRAM_ID, Confirmed, "base64", filters=[12345])
    ).value

    assert found is not None and found.transaction.meta.err is None
    assert any("Instruction: Initialize" in line for line in found.transaction.meta.log_messages)
    assert signature in [entry.signature for entry in history]
    assert deployment.config in [keyed.pubkey for keyed in owned]
    assert [keyed.pubkey for keyed in by_mint] == [deployment.config]
    assert none_match == []
    statuses = (await connection.get_signature_statuses([signature, Signature.default()])).value
    assert statuses[0] is not None and statuses[0].err is None
    assert statuses[1] is None


def test_recent_prioritization_fees_reflect_the_price_paid(rpc_url: str, deployer: Keypair) -> None:
    receiver = Keypair().pubkey()
    blockhash = rpc(rpc_url, "getLatestBlockhash")["result"]["value"]["blockhash"]
    ixs = [
        set_compute_unit_price(4_321),
        transfer(TransferParams(from_pubkey=deployer.pubkey(), to_pubkey=receiver, lamports=1_000_000)),
    ]
    tx = Transaction.new_signed_with_payer(ixs, deployer.pubkey(), [deployer], Hash.from_string(blockhash))
    sent = rpc(rpc_url, "sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"})
    assert "result" in sent, sent
    time.sleep(0.5)

    fees = rpc(rpc_url, "getRecentPrioritizationFees", [str(receiver)])["result"]

    assert 4_321 in [entry["prioritizationFee"] for entry in fees]


def test_browsers_may_call_it_from_any_origin(rpc_url: str) -> None:
    """CORS as solana-test-validator answers it: a preflight names the methods
    and echoes the requested headers; answers allow any origin."""
    origin = {"Origin": "http://dapp.example"}
    asked = {**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, solana-client"}
    preflight = httpx.options(rpc_url, headers=asked, timeout=30)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "OPTIONS, POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type, solana-client"
    assert preflight.headers["access-control-max-age"] == "86400"

    reply = httpx.post(rpc_url, headers=origin, json={"jsonrpc": "2.0", "id": 1, "method": "getSlot"}, timeout=30)
    assert reply.headers["access-control-allow-origin"] == "*"
    assert isinstance(reply.json()["result"], int)


def test_simulations_back_to_back_from_four_clients_never_wedge(rpc_url: str) -> None:
    """The keeper simulates every crank: four clients doing nothing else for a
    minute, while slots end every 400 ms, are all answered (a stall is 10 s)."""
    result = soak(rpc_url, 60, 4)

    assert result.stalls == []
    assert len(result.latencies) > 100
    assert result.slots > 100


async def test_cluster_and_block_methods_parse_in_solana_py(rpc_url: str, client: Aistm7Client, deployment: Deployment) -> None:
    """Methods wallets and explorers call, parsed by solana-py/solders into
    agave's response types (a shape they do not know fails to parse)."""
    solana = AsyncClient(rpc_url)
    try:
        identity = (await solana.get_identity()).value.identity
        assert (await solana.get_slot_leader()).value == identity
        (node,) = [json.loads(node.to_json()) for node in (await solana.get_cluster_nodes()).value]
        assert (node["pubkey"], node["rpc"]) == (str(identity), rpc_url.removeprefix("http://"))
        schedule = (await solana.get_epoch_schedule()).value
        assert schedule.slots_per_epoch > 0
        leaders = (await solana.get_leader_schedule()).value
        in_epoch = (await solana.get_epoch_info()).value.slots_in_epoch
        assert leaders is not None and list(leaders) == [identity] and leaders[identity] == list(range(in_epoch))
        assert (await solana.get_transaction_count(Confirmed)).value > 0
        supply = (await solana.get_supply()).value
        assert supply.total == supply.circulating + supply.non_circulating > 0
        assert (await solana.get_inflation_governor()).value.initial > 0
        assert (await solana.get_inflation_rate()).value.epoch == (await solana.get_epoch_info()).value.epoch
        assert (await solana.get_first_available_block()).value == 0
        assert (await solana.get_minimum_ledger_slot()).value == 0

        # Blocks: every frozen slot up to the commitment asked; jumped-over
        # slots are skipped. Three days on, the tip is past the widest range
        # one call may ask for; finalized blocks lag confirmed ones.
        advance(rpc_url, 3 * 86_400)
        before = (await solana.get_slot(Confirmed)).value
        advance(rpc_url, 10)
        await asyncio.sleep(1)
        confirmed = (await solana.get_slot(Confirmed)).value
        assert (await solana.get_blocks(0, 0)).value == [0]
        blocks = rpc(rpc_url, "getBlocks", before, {"commitment": "confirmed"})["result"]
        assert blocks[0] >= before and blocks[-1] <= confirmed and blocks == sorted(blocks)
        finalized_root = (await solana.get_slot(Finalized)).value
        assert all(slot <= finalized_root for slot in (await solana.get_blocks(before)).value)
        skipped = next(slot for slot in range(blocks[0], confirmed) if slot not in blocks)
        assert (await solana.get_block_time(blocks[-1])).value is not None
        assert rpc_error(rpc_url, "getBlockTime", skipped)["code"] == -32007
        assert rpc_error(rpc_url, "getBlockTime", confirmed + 1_000)["code"] == -32004
        window = rpc(rpc_url, "getBlocks", before, before + 5, {"commitment": "confirmed"})["result"]
        assert window == [s for s in blocks if before <= s <= before + 5]
        assert rpc_error(rpc_url, "getBlocks", before, {"commitment": "processed"})["code"] == -32602
        assert rpc(rpc_url, "getMaxRetransmitSlot")["result"] >= confirmed
        (reward,) = rpc(rpc_url, "getInflationReward", [str(identity)], {"commitment": "confirmed"})["result"]
        assert reward is None or reward["epoch"] >= 0
        snapshot = rpc(rpc_url, "getHighestSnapshotSlot")
        assert snapshot.get("result", {}).get("full", 0) > 0 or snapshot["error"]["code"] == -32008
        assert (await solana.get_block_commitment(blocks[-1])).value.total_stake > 0
    finally:
        await solana.close()


async def test_token_accounts_by_delegate(rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles) -> None:
    delegate = Keypair().pubkey()
    owner = Keypair()
    await airdrop(client, owner.pubkey(), SOL)
    account = await token_account(client, roles.admin, deployment.mint, owner.pubkey(), 5)
    approve = spl_token.approve(
        spl_token.ApproveParams(TOKEN_PROGRAM_ID, account, delegate, owner.pubkey(), 3)
    )
    await client.send([approve], [owner])

    found = await client.connection.get_token_accounts_by_delegate(delegate, TokenAccountOpts(mint=deployment.mint))
    assert [keyed.pubkey for keyed in found.value] == [account]
    nobody = await client.connection.get_token_accounts_by_delegate(Keypair().pubkey(), TokenAccountOpts(mint=deployment.mint))
    assert nobody.value == []


def test_a_repeated_airdrop_is_answered_with_the_signature_that_landed(rpc_url: str) -> None:
    """Identical requests within one blockhash are one transaction: each gets
    its signature, none an error, and the lamports arrive once per signature."""
    to = str(Keypair().pubkey())
    replies = [rpc(rpc_url, "requestAirdrop", to, 1_000_000) for _ in range(5)]
    signatures = {reply["result"] for reply in replies}
    assert all("result" in reply for reply in replies)
    time.sleep(0.5)
    assert rpc(rpc_url, "getBalance", to, {"commitment": "processed"})["result"]["value"] == 1_000_000 * len(signatures)
