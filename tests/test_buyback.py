"""The buy-order treasury over JSON-RPC: allocation rows, revenue batches,
fills, expiry refunds, direct withdrawals, council proposals and closing
settled records."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import MINT_LEN

from keeper import addresses
from keeper.client import Aistm7Client, TxResult
from keeper.deploy import Deployment, deploy_buyback
from keeper.money import DEFAULT_MAX_EVENT_CENTS
from keeper.state import TOKEN, BuybackParams, SetCouncil, SetMaxSupply, Withdraw
from keeper.token import create_mint_ixs, create_token_account_ixs, mint_to_ix
from tests.conftest import PRIMARY_FEED, ROOT, SOL, Roles, advance, airdrop, balance, batch_root, expect_failure, token_account

USD_ZAR_FEED = bytes([0xC3]) * 32
ZAR = 100
QUOTE_FUNDS = 1_000_000_000_000
MAX_EVENT = DEFAULT_MAX_EVENT_CENTS
TIMELOCK = 172_800
RETENTION = 7 * 86_400


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
        token_feed_id=PRIMARY_FEED,
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


async def set_prices(
    client: Aistm7Client, t: Treasury, token: int = 15_000_000, usd_zar: int = 1_850_000_000, conf: int = 0, age: int = 0
) -> None:
    now = await client.cluster_time() - age
    payer = client.payer.pubkey()
    ix = client.write_price_ix(payer, t.token_feed.pubkey(), PRIMARY_FEED, token, now, conf=conf)
    await client.send([ix], [t.token_feed])
    await client.send([client.write_price_ix(payer, t.fx_feed.pubkey(), USD_ZAR_FEED, usd_zar, now)], [t.fx_feed])


async def report(client: Aistm7Client, roles: Roles, cents: int, source: str = "course_sale") -> TxResult:
    """One batch of `cents`, in entries of at most the program's per-entry maximum."""
    found = await client.fetch_buyback()
    assert found is not None
    entries = [(source, min(MAX_EVENT, cents - start)) for start in range(0, cents, MAX_EVENT)]
    ix = client.report_revenue_ix(roles.keeper.pubkey(), found.data.last_batch_seq + 1, batch_root(*entries))
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
    entries = batch_root(("subscription", 9_900), ("other", 1))
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
    # Fills price at the low side of the confidence band: 15_151_500 - 1_500.
    await set_prices(client, treasury, token=15_151_500, conf=1_500)
    await fill(100 * TOKEN)  # type: ignore[misc]
    # An update older than the one the treasury just used is refused.
    await set_prices(client, treasury, token=14_000_000, age=30)
    await expect_failure("PriceOlderThanLastUsed", fill(150_000_000))
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


async def quote_account(client: Aistm7Client, t: Treasury, owner: Pubkey) -> Pubkey:
    account = Keypair()
    rent = (await client.connection.get_minimum_balance_for_rent_exemption(165)).value
    await client.send(create_token_account_ixs(client.payer.pubkey(), account.pubkey(), t.quote_mint, owner, rent), [account])
    return account.pubkey()


async def next_proposal(client: Aistm7Client) -> int:
    return (await client.fetch_buyback()).data.next_proposal_id  # type: ignore[union-attr]


async def funded_council(client: Aistm7Client, t: Treasury) -> None:
    for member in t.council:
        if (await client.connection.get_balance(member.pubkey())).value < SOL // 2:
            await airdrop(client, member.pubkey(), SOL)


async def test_direct_withdrawals_share_one_daily_limit(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    now = await client.cluster_time()
    advance(rpc_url, 86_400 - now % 86_400 + 10)  # early in a fresh UTC day
    dest = await quote_account(client, treasury, roles.admin.pubkey())
    admin = roles.admin

    def withdraw(amount: int, destination: Pubkey = dest) -> object:
        return client.send([client.withdraw_quote_ix(admin.pubkey(), treasury.quote_mint, destination, amount)], [admin])

    await expect_failure("WithdrawalNeedsApproval", withdraw(1_000_000_001))
    await expect_failure("ProgramOwnedDestination", withdraw(1, addresses.order_escrow_pda(1)))
    first = await withdraw(600_000_000)  # type: ignore[misc]
    await expect_failure("DirectWithdrawLimitExceeded", withdraw(400_000_001))
    await withdraw(400_000_000)  # type: ignore[misc]
    await expect_failure("DirectWithdrawLimitExceeded", withdraw(1))

    assert await balance(client, dest) == 1_000_000_000
    (event,) = client.events(first.logs)  # type: ignore[attr-defined]
    assert event.name == "VaultWithdrawn"
    assert (event.data.vault, event.data.amount, event.data.proposal, event.data.withdrawn_today) == (
        addresses.quote_vault_pda(), 600_000_000, None, 600_000_000
    )
    advance(rpc_url, 86_400)
    await withdraw(1)  # type: ignore[misc]
    assert (await client.fetch_buyback()).data.withdrawn_today == 1  # type: ignore[union-attr]


async def test_withdrawal_proposals_need_a_quorum_then_the_time_lock(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles, treasury: Treasury
) -> None:
    await funded_council(client, treasury)
    dest = await quote_account(client, treasury, roles.admin.pubkey())
    admin, m0, m1 = roles.admin, treasury.council[0], treasury.council[1]
    action = Withdraw(addresses.quote_vault_pda(), dest, 5_000_000_000)
    proposal_id = await next_proposal(client)

    def propose(signer: Keypair, proposed: Withdraw) -> object:
        return client.send([client.create_proposal_ix(signer.pubkey(), proposal_id, proposed)], [signer])

    def approve(member: Keypair) -> object:
        return client.send([client.approve_proposal_ix(member.pubkey(), proposal_id)], [member])

    def execute() -> object:
        return client.send([client.execute_proposal_ix(proposal_id, action, treasury.quote_mint)])

    stranger = Keypair()
    await airdrop(client, stranger.pubkey(), SOL)
    await expect_failure("NotProposer", propose(stranger, action))
    lock_vault = Withdraw(addresses.lock_vault_pda(deployment.mint), dest, 1)
    await expect_failure("InvalidWithdrawalVault", propose(admin, lock_vault))
    treasury_to_quote = Withdraw(addresses.treasury_pda(deployment.mint), dest, 1)
    await expect_failure("WrongMint", propose(admin, treasury_to_quote))
    await expect_failure("ProgramOwnedDestination", propose(admin, Withdraw(action.vault, addresses.order_escrow_pda(1), 1)))
    assert await client.fetch_proposal(proposal_id) is None

    created = await propose(m0, action)  # type: ignore[misc]
    await expect_failure("NotCouncilMember", approve(admin))
    await approve(m0)  # type: ignore[misc]
    await expect_failure("AlreadyApproved", approve(m0))
    await expect_failure("NotEnoughApprovals", execute())
    assert (await client.fetch_proposal(proposal_id)).data.executable_at == 0  # type: ignore[union-attr]
    quorum = await approve(m1)  # type: ignore[misc]
    await expect_failure("TimelockNotElapsed", execute())
    advance(rpc_url, TIMELOCK)
    before = await balance(client, dest)
    executed = await execute()  # type: ignore[misc]

    assert await balance(client, dest) == before + 5_000_000_000
    proposal = (await client.fetch_proposal(proposal_id)).data  # type: ignore[union-attr]
    assert (proposal.action, proposal.proposer, proposal.status) == (action, m0.pubkey(), "Executed")
    assert proposal.approvals == [m0.pubkey(), m1.pubkey()]
    assert proposal.quorum_at > 0 and proposal.executable_at == proposal.quorum_at + TIMELOCK
    assert proposal.closed_at >= proposal.executable_at
    (approved,) = client.events(quorum.logs)  # type: ignore[attr-defined]
    assert (approved.name, approved.data.approvals, approved.data.executable_at) == ("ProposalApproved", 2, proposal.executable_at)
    assert client.events(created.logs)[0].name == "ProposalCreated"  # type: ignore[attr-defined]
    withdrawn, done = client.events(executed.logs)  # type: ignore[attr-defined]
    assert (withdrawn.name, withdrawn.data.amount, withdrawn.data.proposal) == ("VaultWithdrawn", 5_000_000_000, proposal_id)
    assert (done.name, done.data.id) == ("ProposalExecuted", proposal_id)
    await expect_failure("ProposalNotPending", execute())


async def test_the_guardian_cancels_and_settled_proposals_close_after_the_retention(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    dest = await quote_account(client, treasury, roles.admin.pubkey())
    admin = roles.admin
    proposal_id = await next_proposal(client)
    await client.send([client.create_proposal_ix(admin.pubkey(), proposal_id, Withdraw(addresses.quote_vault_pda(), dest, 7))], [admin])

    def close(proposer: Pubkey = admin.pubkey()) -> object:
        return client.send([client.close_proposal_ix(proposal_id, proposer)])

    await expect_failure("RecordNotSettled", close())
    await expect_failure("Unauthorized", client.send([client.cancel_proposal_ix(admin.pubkey(), proposal_id)], [admin]))
    await client.send([client.cancel_proposal_ix(roles.guardian.pubkey(), proposal_id)], [roles.guardian])
    assert (await client.fetch_proposal(proposal_id)).data.status == "Cancelled"  # type: ignore[union-attr]
    await expect_failure("ProposalNotPending", client.send([client.cancel_proposal_ix(roles.guardian.pubkey(), proposal_id)], [roles.guardian]))
    await expect_failure("RetentionNotElapsed", close())
    advance(rpc_url, RETENTION)
    await expect_failure("WrongRentRecipient", close(roles.guardian.pubkey()))
    rent = (await client.connection.get_balance(addresses.proposal_pda(proposal_id))).value
    before = (await client.connection.get_balance(admin.pubkey())).value

    closed = await close()  # type: ignore[misc]

    assert await client.fetch_proposal(proposal_id) is None
    assert (await client.connection.get_balance(admin.pubkey())).value == before + rent
    (event,) = client.events(closed.logs)  # type: ignore[attr-defined]
    assert (event.name, event.data.account, event.data.rent_recipient, event.data.lamports) == (
        "AccountClosed", addresses.proposal_pda(proposal_id), admin.pubkey(), rent
    )


async def test_only_a_council_proposal_raises_the_max_supply(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    await funded_council(client, treasury)
    admin, (m0, m1, _) = roles.admin, treasury.council
    cap = (await client.fetch_config()).data.token_params.max_supply  # type: ignore[union-attr]
    await expect_failure("MaxSupplyRaiseNeedsCouncil", client.send([client.set_token_params_ix(admin.pubkey(), max_supply=cap + 1)], [admin]))
    proposal_id = await next_proposal(client)
    action = SetMaxSupply(cap + TOKEN)
    await client.send([client.create_proposal_ix(admin.pubkey(), proposal_id, action)], [admin])
    for member in (m0, m1):
        await client.send([client.approve_proposal_ix(member.pubkey(), proposal_id)], [member])
    advance(rpc_url, TIMELOCK)

    executed = await client.send([client.execute_proposal_ix(proposal_id, action)])

    assert (await client.fetch_config()).data.token_params.max_supply == cap + TOKEN  # type: ignore[union-attr]
    updated, done = client.events(executed.logs)
    assert (updated.name, updated.data.old.max_supply, updated.data.new.max_supply) == ("TokenParamsUpdated", cap, cap + TOKEN)
    assert done.name == "ProposalExecuted"


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


async def test_a_new_council_leaves_older_proposals_stale(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    await funded_council(client, treasury)
    admin, (m0, m1, _) = roles.admin, treasury.council
    newcomer = Keypair()
    older = await next_proposal(client)
    withdrawal = Withdraw(addresses.quote_vault_pda(), await quote_account(client, treasury, admin.pubkey()), 1)
    await client.send([client.create_proposal_ix(admin.pubkey(), older, withdrawal)], [admin])
    await client.send([client.approve_proposal_ix(m0.pubkey(), older)], [m0])
    change = SetCouncil([m0.pubkey(), m1.pubkey(), newcomer.pubkey()], 2)
    await client.send([client.create_proposal_ix(admin.pubkey(), older + 1, change)], [admin])
    for member in (m0, m1):
        await client.send([client.approve_proposal_ix(member.pubkey(), older + 1)], [member])
    advance(rpc_url, TIMELOCK)

    executed = await client.send([client.execute_proposal_ix(older + 1, change)])

    buyback = (await client.fetch_buyback()).data  # type: ignore[union-attr]
    assert (buyback.council, buyback.params.approvals_required) == (change.members, 2)
    assert buyback.proposals_stale_through == older + 1
    changed = client.events(executed.logs)[0]
    assert (changed.name, changed.data.proposals_stale_through) == ("CouncilChanged", older + 1)
    await expect_failure("ProposalStale", client.send([client.approve_proposal_ix(m1.pubkey(), older)], [m1]))
    await expect_failure("ProposalStale", client.send([client.execute_proposal_ix(older, withdrawal, treasury.quote_mint)]))
    await client.send([client.cancel_proposal_ix(roles.guardian.pubkey(), older)], [roles.guardian])
    assert (await client.fetch_proposal(older)).data.status == "Cancelled"  # type: ignore[union-attr]


async def test_settled_orders_close_after_the_retention_and_refund_their_keeper(
    rpc_url: str, client: Aistm7Client, roles: Roles, treasury: Treasury
) -> None:
    from keeper.jobs.cranks import close_settled_orders

    keeper = roles.keeper.pubkey()
    await report(client, roles, 100_000 * ZAR)
    (opened,) = client.events((await execute(client, roles, treasury)).logs)
    order_id = opened.data.id

    def close(payer: Pubkey = keeper) -> object:
        return client.send([client.close_buy_order_ix(order_id, treasury.quote_mint, payer)])

    await expect_failure("RecordNotSettled", close())
    await client.send([client.cancel_buy_order_ix(roles.admin.pubkey(), order_id, treasury.quote_mint)], [roles.admin])
    await expect_failure("RetentionNotElapsed", close())
    advance(rpc_url, RETENTION)
    await expect_failure("WrongRentRecipient", close(roles.admin.pubkey()))
    order, escrow = addresses.order_pda(order_id), addresses.order_escrow_pda(order_id)
    rent = sum(account.lamports for account in (await client.connection.get_multiple_accounts([order, escrow])).value if account)
    before = (await client.connection.get_balance(keeper)).value

    closed = await close()  # type: ignore[misc]

    assert (await client.connection.get_balance(keeper)).value == before + rent
    assert (await client.connection.get_multiple_accounts([order, escrow])).value == [None, None]
    (event,) = client.events(closed.logs)  # type: ignore[attr-defined]
    assert (event.name, event.data.account, event.data.rent_recipient, event.data.lamports) == ("AccountClosed", order, keeper, rent)

    # The job closes the keeper's own settled orders only, and only once.
    settled = [raw.id for _, raw in await client.fetch_all("BuyOrder") if type(raw.status).__name__ != "Pending"]
    assert settled
    admin_as_keeper = Aistm7Client.connect(rpc_url, roles.admin)
    keeper_client = Aistm7Client.connect(rpc_url, roles.keeper)
    try:
        assert (await close_settled_orders(admin_as_keeper)).txs == 0
        assert (await close_settled_orders(keeper_client)).txs == len(settled)
        assert (await close_settled_orders(keeper_client)).txs == 0
    finally:
        await admin_as_keeper.close()
        await keeper_client.close()
    assert [raw.id for _, raw in await client.fetch_all("BuyOrder") if raw.id in settled] == []
