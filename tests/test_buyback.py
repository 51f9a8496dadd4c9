"""The buy-order treasury over JSON-RPC: allocation rows, revenue batches,
fills, expiry refunds and council withdrawals."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass

import httpx
import pytest
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import MINT_LEN

from keeper import addresses
from keeper.client import Aistm7Client, TxResult
from keeper.deploy import Deployment, deploy_buyback
from keeper.errors import ProgramFailure
from keeper.state import TOKEN, BuybackParams
from keeper.token import create_mint_ixs, create_token_account_ixs, mint_to_ix
from tests.conftest import PRIMARY_FEED, ROOT, Roles, token_account

USD_ZAR_FEED = bytes([0xC3]) * 32
ZAR = 100
QUOTE_FUNDS = 1_000_000_000_000


@dataclass(frozen=True)
class Treasury:
    quote_mint: Pubkey
    council: list[Keypair]
    token_feed: Keypair
    fx_feed: Keypair


@pytest.fixture(scope="module")
def treasury(rpc_url: str, deployer: Keypair, deployment: Deployment, roles: Roles) -> Treasury:
    quote = Keypair()
    council = [Keypair(), Keypair(), Keypair()]
    params = BuybackParams(
        usd_zar_feed_id=USD_ZAR_FEED,
        order_ttl_secs=3_600,
        direct_withdraw_limit=1_000_000_000,
        approvals_required=2,
    )

    async def run() -> None:
        client = Aistm7Client.connect(rpc_url, deployer)
        try:
            payer = deployer.pubkey()
            rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
            await client.send(create_mint_ixs(payer, quote.pubkey(), payer, 6, rent), [quote])
            await deploy_buyback(client, roles.admin, quote.pubkey(), params, [k.pubkey() for k in council])
            await client.send([mint_to_ix(quote.pubkey(), addresses.quote_vault_pda(), payer, QUOTE_FUNDS)])
        finally:
            await client.close()

    asyncio.run(run())
    return Treasury(quote.pubkey(), council, Keypair(), Keypair())


def advance(rpc_url: str, seconds: int) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "advanceClock", "params": [seconds]}
    assert "result" in httpx.post(rpc_url, json=body, timeout=60).json()


async def expect_failure(name: str, pending: object) -> None:
    with pytest.raises(ProgramFailure, match=name) as raised:
        await pending  # type: ignore[misc]
    assert raised.value.name == name


async def balance(client: Aistm7Client, account: Pubkey) -> int:
    return int((await client.connection.get_token_account_balance(account, Confirmed)).value.amount)


async def set_prices(client: Aistm7Client, t: Treasury, token: int = 15_000_000, usd_zar: int = 1_850_000_000) -> None:
    now = await client.cluster_time()
    payer = client.payer.pubkey()
    await client.send([client.write_price_ix(payer, t.token_feed.pubkey(), PRIMARY_FEED, token, now)], [t.token_feed])
    await client.send([client.write_price_ix(payer, t.fx_feed.pubkey(), USD_ZAR_FEED, usd_zar, now)], [t.fx_feed])


async def report(client: Aistm7Client, roles: Roles, cents: int, source: str = "course_sale") -> TxResult:
    found = await client.fetch_buyback()
    assert found is not None
    ix = client.report_revenue_ix(roles.keeper.pubkey(), found.data.last_batch_seq + 1, [(source, cents)])
    return await client.send([ix], [roles.keeper])


async def execute(client: Aistm7Client, roles: Roles, t: Treasury) -> TxResult:
    await set_prices(client, t)
    found = await client.fetch_buyback()
    assert found is not None
    ix = client.execute_buy_order_ix(
        roles.keeper.pubkey(), found.data.next_order_id, t.quote_mint, t.token_feed.pubkey(), t.fx_feed.pubkey()
    )
    return await client.send([ix], [roles.keeper])


async def test_allocation_rows(client: Aistm7Client, roles: Roles, treasury: Treasury) -> None:
    await report(client, roles, 100_000 * ZAR)
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    assert (opened.data.zar_allocated_cents, opened.data.revenue_used_cents) == (10_000 * ZAR, 100_000 * ZAR)
    assert (opened.data.quote_budget, opened.data.limit_price) == (540_540_540, 151_500)

    await report(client, roles, 999 * ZAR)
    await expect_failure("AllocationBelowMinimum", execute(client, roles, treasury))
    assert (await client.fetch_buyback()).data.available_cents == 999 * ZAR  # type: ignore[union-attr]
    await report(client, roles, ZAR)
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    assert opened.data.zar_allocated_cents == 100 * ZAR

    await report(client, roles, 20_000_000 * ZAR)
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    assert (opened.data.zar_allocated_cents, opened.data.revenue_used_cents) == (1_000_000 * ZAR, 10_000_000 * ZAR)
    buyback = (await client.fetch_buyback()).data  # type: ignore[union-attr]
    assert buyback.available_cents == 10_000_000 * ZAR
    assert buyback.revenue.course_sale == buyback.revenue.total == 20_101_000 * ZAR
    # Spend the rest so later tests start from nothing available.
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    assert opened.data.revenue_used_cents == 10_000_000 * ZAR


async def test_batches_are_sequenced(client: Aistm7Client, roles: Roles, treasury: Treasury) -> None:
    last = (await client.fetch_buyback()).data.last_batch_seq  # type: ignore[union-attr]
    entries = [("subscription", 9_900), ("other", 1)]
    await client.send([client.report_revenue_ix(roles.keeper.pubkey(), last + 1, entries)], [roles.keeper])

    await expect_failure("BatchAlreadyRecorded", client.send([client.report_revenue_ix(roles.keeper.pubkey(), last + 1, entries)], [roles.keeper]))
    await expect_failure("BatchSequenceGap", client.send([client.report_revenue_ix(roles.keeper.pubkey(), last + 3, entries)], [roles.keeper]))
    await expect_failure("Unauthorized", client.send([client.report_revenue_ix(roles.admin.pubkey(), last + 2, entries)], [roles.admin]))
    revenue = (await client.fetch_buyback()).data.revenue  # type: ignore[union-attr]
    assert (revenue.subscription, revenue.other) == (9_900, 1)


async def test_fills_pay_the_oracle_price_up_to_the_limit(
    client: Aistm7Client, deployment: Deployment, roles: Roles, treasury: Treasury
) -> None:
    await report(client, roles, 100_000 * ZAR)
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    order_id = opened.data.id
    seller = Keypair()
    seller_token = await token_account(client, roles.admin, deployment.mint, seller.pubkey(), 10_000 * TOKEN)
    seller_quote = Keypair()
    rent = (await client.connection.get_minimum_balance_for_rent_exemption(165)).value
    await client.send(create_token_account_ixs(client.payer.pubkey(), seller_quote.pubkey(), treasury.quote_mint, seller.pubkey(), rent), [seller_quote])

    def fill(amount: int) -> object:
        ix = client.fill_buy_order_ix(
            seller.pubkey(), order_id, deployment.mint, treasury.quote_mint, seller_token,
            seller_quote.pubkey(), treasury.token_feed.pubkey(), treasury.fx_feed.pubkey(), amount,
        )
        return client.send([ix], [seller])

    supply = int((await client.connection.get_token_supply(deployment.mint)).value.amount)
    await set_prices(client, treasury, token=15_151_500)
    await expect_failure("PriceAboveLimit", fill(100 * TOKEN))
    await set_prices(client, treasury, token=15_150_000)
    await fill(100 * TOKEN)  # type: ignore[misc]
    await set_prices(client, treasury, token=14_000_000)
    await fill(150_000_000)  # type: ignore[misc]
    await expect_failure("FillExceedsBudget", fill(10_000 * TOKEN))

    order = (await client.fetch_buy_order(order_id)).data  # type: ignore[union-attr]
    assert (order.quote_spent, order.tokens_acquired, order.status) == (15_150_000 + 210_000, 100 * TOKEN + 150_000_000, "Pending")
    assert await balance(client, seller_quote.pubkey()) == 15_360_000
    assert int((await client.connection.get_token_supply(deployment.mint)).value.amount) == supply - order.tokens_acquired


async def test_expired_orders_return_their_budget_exactly(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    vault = addresses.quote_vault_pda()
    await report(client, roles, 100_000 * ZAR)
    before = await balance(client, vault)
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    order_id = opened.data.id
    assert await balance(client, vault) == before - opened.data.quote_budget

    await expect_failure("OrderNotExpired", client.send([client.close_expired_buy_order_ix(order_id, treasury.quote_mint)]))
    await expect_failure("Unauthorized", client.send([client.cancel_buy_order_ix(roles.keeper.pubkey(), order_id, treasury.quote_mint)], [roles.keeper]))
    advance(rpc_url, 3_600)
    closed = await client.send([client.close_expired_buy_order_ix(order_id, treasury.quote_mint)])

    (event,) = client.events(closed.logs)
    assert (event.data.quote_returned, type(event.data.status).__name__) == (opened.data.quote_budget, "Expired")
    assert await balance(client, vault) == before
    assert (await client.fetch_buy_order(order_id)).data.status == "Expired"  # type: ignore[union-attr]


async def test_withdrawals_need_approvals_and_the_time_lock(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles, treasury: Treasury
) -> None:
    destination = Keypair()
    rent = (await client.connection.get_minimum_balance_for_rent_exemption(165)).value
    await client.send(create_token_account_ixs(client.payer.pubkey(), destination.pubkey(), treasury.quote_mint, roles.admin.pubkey(), rent), [destination])
    dest = destination.pubkey()
    admin, m0, m1 = roles.admin, treasury.council[0], treasury.council[1]
    for member in (m0, m1):
        sig = (await client.connection.request_airdrop(member.pubkey(), 10**9)).value
        await client.connection.confirm_transaction(sig, Confirmed)

    await client.send([client.withdraw_quote_ix(admin.pubkey(), treasury.quote_mint, dest, 1_000_000_000)], [admin])
    await expect_failure("WithdrawalNeedsApproval", client.send([client.withdraw_quote_ix(admin.pubkey(), treasury.quote_mint, dest, 1_000_000_001)], [admin]))
    proposal_id = (await client.fetch_buyback()).data.next_proposal_id  # type: ignore[union-attr]
    await client.send([client.propose_withdrawal_ix(admin.pubkey(), proposal_id, dest, 5_000_000_000)], [admin])

    await expect_failure("NotCouncilMember", client.send([client.approve_withdrawal_ix(admin.pubkey(), proposal_id)], [admin]))
    await client.send([client.approve_withdrawal_ix(m0.pubkey(), proposal_id)], [m0])
    await expect_failure("AlreadyApproved", client.send([client.approve_withdrawal_ix(m0.pubkey(), proposal_id)], [m0]))
    await expect_failure("NotEnoughApprovals", client.send([client.execute_withdrawal_ix(proposal_id, treasury.quote_mint, dest)]))
    await client.send([client.approve_withdrawal_ix(m1.pubkey(), proposal_id)], [m1])
    await expect_failure("TimelockNotElapsed", client.send([client.execute_withdrawal_ix(proposal_id, treasury.quote_mint, dest)]))
    advance(rpc_url, 172_800)
    await client.send([client.execute_withdrawal_ix(proposal_id, treasury.quote_mint, dest)])
    assert await balance(client, dest) == 6_000_000_000
    assert (await client.fetch_withdrawal(proposal_id)).data.status == "Executed"  # type: ignore[union-attr]

    await client.send([client.propose_withdrawal_ix(admin.pubkey(), proposal_id + 1, dest, 7)], [admin])
    await expect_failure("Unauthorized", client.send([client.cancel_withdrawal_ix(admin.pubkey(), proposal_id + 1)], [admin]))
    await client.send([client.cancel_withdrawal_ix(roles.guardian.pubkey(), proposal_id + 1)], [roles.guardian])
    assert (await client.fetch_withdrawal(proposal_id + 1)).data.status == "Cancelled"  # type: ignore[union-attr]


def test_treasury_show_and_buy_orders_list(rpc_url: str, treasury: Treasury) -> None:
    aistm7 = str(ROOT / ".venv" / "bin" / "aistm7")
    shown = json.loads(subprocess.run([aistm7, "treasury", "show", "--rpc-url", rpc_url, "--json"], capture_output=True, text=True, check=True).stdout)
    orders = json.loads(subprocess.run([aistm7, "buy-orders", "list", "--rpc-url", rpc_url, "--json"], capture_output=True, text=True, check=True).stdout)

    assert shown["metrics"]["orders_opened"] == len(orders) >= 1
    assert shown["metrics"]["tokens_acquired"] == sum(order["tokens_acquired"] for order in orders)
    assert shown["metrics"]["quote_spent"] == sum(order["quote_spent"] for order in orders)
    assert shown["revenue_cents"]["total"] == sum(shown["revenue_cents"][s] for s in ("course_sale", "subscription", "other"))


async def test_the_keeper_jobs_skip_no_ops_and_close_what_expired(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    from keeper.jobs.cranks import PriceAccounts, close_expired_orders, execute_buy_order

    keeper = Aistm7Client.connect(rpc_url, roles.keeper)
    try:
        prices = PriceAccounts(treasury.token_feed.pubkey(), usd_zar=treasury.fx_feed.pubkey())
        await set_prices(client, treasury)
        available = (await client.fetch_buyback()).data.available_cents  # type: ignore[union-attr]
        if available:
            await execute_buy_order(keeper, prices)  # spend what earlier tests left
        opened_before = (await client.fetch_buyback()).data.metrics.orders_opened  # type: ignore[union-attr]
        assert (await execute_buy_order(keeper, prices)).txs == 0, "nothing to allocate: no transaction"
        await report(client, roles, 100_000 * ZAR)
        await set_prices(client, treasury)
        assert (await execute_buy_order(keeper, prices)).txs == 1
        advance(rpc_url, 3_600)
        closed = await close_expired_orders(keeper)
    finally:
        await keeper.close()

    metrics = (await client.fetch_buyback()).data.metrics  # type: ignore[union-attr]
    assert metrics.orders_opened == opened_before + 1
    assert closed.txs >= 1
    pending = [raw for _, raw in await client.fetch_all("BuyOrder") if type(raw.status).__name__ == "Pending"]
    assert pending == []
