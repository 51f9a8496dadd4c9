"""Auditor tools against a chain of their own after a scripted scenario
(deploy, two prices, fees, a wallet link, a reward, locks, revenue, a
cancelled buy-order closed after the retention period, council proposals, a
second buy-order and a fill): `show` gives the scenario's values, `verify`
passes, a copy of the state whose escrow and lock vault were drained fails it,
and the report charts the scenario."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import pytest
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import ACCOUNT_LEN, MINT_LEN

from keeper import addresses
from keeper.audit import snapshot as snapshot_module
from keeper.audit import verify
from keeper.audit.history import History
from keeper.audit.history import read as read_history
from keeper.audit.snapshot import Snapshot
from keeper.client import Aistm7Client
from keeper.deploy import deploy, deploy_buyback
from keeper.state import TOKEN, BuybackParams, OracleParams, SetMaxSupply, Withdraw
from keeper.token import create_mint_ixs, create_token_account_ixs, mint_to_ix
from tests.conftest import INITIAL_SUPPLY, PRIMARY_FEED, SOL, Roles, _fund, airdrop, aistm7, batch_root, launch_validator, token_account
from tests.test_buyback import USD_ZAR_FEED, advance

ZAR = 100
RETENTION = 7 * 86_400


@dataclass(frozen=True)
class Scenario:
    rpc_url: str
    mint: Pubkey
    user: Pubkey
    locker: Pubkey
    order_id: int
    fill: dict[str, Any]
    opened: dict[str, Any]


async def _play(rpc_url: str, deployer: Keypair, roles: Roles) -> Scenario:
    client = Aistm7Client.connect(rpc_url, deployer)
    try:
        payer = deployer.pubkey()
        oracle = OracleParams(primary_feed_id=PRIMARY_FEED)
        deployment = await deploy(client, Keypair(), oracle, roles.authorities(), roles.admin, initial_supply=INITIAL_SUPPLY)
        mint = deployment.mint
        token_feed, fx_feed = Keypair(), Keypair()

        async def prices(token: int) -> None:
            now = await client.cluster_time()
            await client.send([client.write_price_ix(payer, token_feed.pubkey(), PRIMARY_FEED, token, now)], [token_feed])
            await client.send([client.write_price_ix(payer, fx_feed.pubkey(), USD_ZAR_FEED, 1_850_000_000, now)], [fx_feed])

        await prices(15_000_000)
        await client.send([client.refresh_requirement_ix(token_feed.pubkey())])
        advance(rpc_url, 61)
        await prices(10_000_000)
        await client.send([client.refresh_requirement_ix(token_feed.pubkey())])

        user = Keypair()
        await airdrop(client, user.pubkey(), SOL)
        user_tokens = await token_account(client, roles.admin, mint, user.pubkey(), 10 * TOKEN)
        for service in ("search", "search", "goal"):
            await client.send([client.pay_service_fee_ix(user.pubkey(), mint, user_tokens, service)], [user])
        await client.send([client.connect_wallet_ix(user.pubkey(), hashlib.sha256(b"auditor-1").digest())], [user])
        admin_tokens = await token_account(client, roles.admin, mint, roles.admin.pubkey(), 50 * TOKEN)
        await client.send([client.fund_rewards_ix(roles.admin.pubkey(), mint, admin_tokens, 50 * TOKEN)], [roles.admin])
        await client.send([client.distribute_reward_ix(roles.rewarder.pubkey(), mint, user_tokens, 1, 3 * TOKEN)], [roles.rewarder])

        # A wallet that keeps 100 tokens locked with 50 unlocking, and one that leaves.
        locker, leaver = Keypair(), Keypair()
        for wallet, locked, unlocked in ((locker, 150 * TOKEN, 50 * TOKEN), (leaver, 10 * TOKEN, 10 * TOKEN)):
            await airdrop(client, wallet.pubkey(), SOL)
            wallet_tokens = await token_account(client, roles.admin, mint, wallet.pubkey(), locked)
            await client.send([client.lock_tokens_ix(wallet.pubkey(), mint, wallet_tokens, locked)], [wallet])
            await client.send([client.request_unlock_ix(wallet.pubkey(), unlocked)], [wallet])
        leaver_tokens = wallet_tokens

        quote = Keypair()
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
        await client.send(create_mint_ixs(payer, quote.pubkey(), payer, 6, rent), [quote])
        council = [roles.admin.pubkey()]
        await deploy_buyback(client, roles.admin, quote.pubkey(), BuybackParams(token_feed_id=PRIMARY_FEED, usd_zar_feed_id=USD_ZAR_FEED), council)
        await client.send([mint_to_ix(quote.pubkey(), addresses.quote_vault_pda(), payer, 10**12)])
        keeper = roles.keeper.pubkey()
        await client.send([client.report_revenue_ix(keeper, 1, batch_root(("course_sale", 100_000 * ZAR)))], [roles.keeper])
        await prices(15_000_000)
        ix = client.execute_buy_order_ix(keeper, 1, quote.pubkey(), token_feed.pubkey(), fx_feed.pubkey())
        await client.send([ix], [roles.keeper])
        await client.send([client.cancel_buy_order_ix(roles.admin.pubkey(), 1, quote.pubkey())], [roles.admin])

        # Proposal 1 withdraws quote once its time-lock passed; proposal 2 is cancelled, then closed.
        admin_quote = Keypair()
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(ACCOUNT_LEN)).value
        await client.send(create_token_account_ixs(payer, admin_quote.pubkey(), quote.pubkey(), roles.admin.pubkey(), rent), [admin_quote])
        withdrawal = Withdraw(addresses.quote_vault_pda(), admin_quote.pubkey(), 1_000)
        await client.send([client.create_proposal_ix(roles.admin.pubkey(), 1, withdrawal)], [roles.admin])
        await client.send([client.approve_proposal_ix(roles.admin.pubkey(), 1)], [roles.admin])
        await client.send([client.create_proposal_ix(roles.admin.pubkey(), 2, SetMaxSupply(INITIAL_SUPPLY * 20))], [roles.admin])
        await client.send([client.cancel_proposal_ix(roles.guardian.pubkey(), 2)], [roles.guardian])
        advance(rpc_url, RETENTION)
        await client.send([client.close_buy_order_ix(1, quote.pubkey(), keeper)])
        await client.send([client.close_proposal_ix(2, roles.admin.pubkey())])
        await client.send([client.execute_proposal_ix(1, withdrawal, quote.pubkey())])
        await client.send([client.withdraw_unlocked_ix(leaver.pubkey(), mint, leaver_tokens)], [leaver])

        await client.send([client.report_revenue_ix(keeper, 2, batch_root(("subscription", 5_000 * ZAR)))], [roles.keeper])
        await prices(15_000_000)
        ix = client.execute_buy_order_ix(keeper, 2, quote.pubkey(), token_feed.pubkey(), fx_feed.pubkey())
        (opened,) = client.events((await client.send([ix], [roles.keeper])).logs)

        seller = Keypair()
        await airdrop(client, seller.pubkey(), SOL)
        seller_tokens = await token_account(client, roles.admin, mint, seller.pubkey(), 100 * TOKEN)
        seller_quote = Keypair()
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(ACCOUNT_LEN)).value
        await client.send(create_token_account_ixs(payer, seller_quote.pubkey(), quote.pubkey(), seller.pubkey(), rent), [seller_quote])
        fill_ix = client.fill_buy_order_ix(
            seller.pubkey(), 2, mint, quote.pubkey(), seller_tokens, seller_quote.pubkey(),
            token_feed.pubkey(), fx_feed.pubkey(), 40 * TOKEN,
        )
        (filled,) = client.events((await client.send([fill_ix], [seller])).logs)
        lower_cap = client.set_token_params_ix(roles.admin.pubkey(), max_supply=INITIAL_SUPPLY // 2)
        await client.send([lower_cap], [roles.admin])  # below the supply: minting stops, nothing is violated
        as_dict = lambda event: {k: getattr(event.data, k) for k in ("id", "quote_budget", "quote_paid", "tokens") if hasattr(event.data, k)}  # noqa: E731
        return Scenario(rpc_url, mint, user.pubkey(), locker.pubkey(), 2, as_dict(filled), as_dict(opened))
    finally:
        await client.close()


@pytest.fixture(scope="module")
def scenario(xprocess, tmp_path_factory) -> Iterator[Scenario]:  # type: ignore[no-untyped-def]
    rpc_url = launch_validator(xprocess, "localnet-audit", tmp_path_factory.mktemp("audit-ledger"))
    deployer = Keypair()
    roles = Roles(Keypair(), Keypair(), Keypair(), Keypair(), Keypair())
    try:
        for key in (deployer, roles.admin, roles.keeper, roles.rewarder):
            _fund(rpc_url, key, 10 * SOL)
        yield asyncio.run(_play(rpc_url, deployer, roles))
    finally:
        xprocess.getinfo("localnet-audit").terminate()


def test_show_json_holds_what_the_scenario_did(scenario: Scenario) -> None:
    done = aistm7("audit", "show", "--json", "--rpc-url", scenario.rpc_url)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["requirement"]["computed_units"] == 150 * TOKEN
    assert shown["requirement"]["price"] == 10_000_000
    fees = {row["name"]: (row["count"], row["total_units"]) for row in shown["fees"]}
    assert fees["search"] == (2, 2 * TOKEN // 10) and fees["goal"] == (1, TOKEN) and fees["analysis"] == (0, 0)
    revenue = shown["treasury"]["revenue"]
    assert (revenue["course_sale"], revenue["subscription"], revenue["total"]) == (10_000_000, 500_000, 10_500_000)
    metrics = shown["treasury"]["metrics"]
    assert (metrics["zar_allocated_cents"], metrics["revenue_used_cents"]) == (1_050_000, 10_500_000)
    assert (metrics["tokens_acquired"], metrics["quote_spent"]) == (40 * TOKEN, scenario.fill["quote_paid"])
    (order,) = shown["buy_orders"]  # order 1 was closed
    assert (order["id"], order["status"], order["quote_budget"]) == (2, "Pending", scenario.opened["quote_budget"])
    escrow = next(a for a in shown["token_accounts"] if a["role"] == f"order_{scenario.order_id}_escrow")
    assert escrow["amount"] == scenario.opened["quote_budget"] - scenario.fill["quote_paid"]
    assert [link["wallet"] for link in shown["wallet_links"]] == [str(scenario.user)]
    assert shown["config"]["rewards"]["paid_total"] == 3 * TOKEN
    (lock,) = shown["access_locks"]  # the leaver's lock closed
    assert (lock["wallet"], lock["locked"], lock["unlocking"]) == (str(scenario.locker), 100 * TOKEN, 50 * TOKEN)
    assert shown["config"]["total_locked"] == 150 * TOKEN
    lock_vault = next(a for a in shown["token_accounts"] if a["role"] == "lock_vault")
    assert lock_vault["amount"] == 150 * TOKEN
    (proposal,) = shown["proposals"]  # proposal 2 was closed
    assert (proposal["id"], proposal["status"]) == (1, "Executed")
    withdrawal = proposal["action"]["Withdraw"]
    assert (withdrawal["vault"], withdrawal["amount"]) == (str(addresses.quote_vault_pda()), 1_000)
    assert proposal["executable_at"] == proposal["quorum_at"] + 172_800

    csv_out = aistm7("audit", "show", "--csv", "--table", "fees", "--rpc-url", scenario.rpc_url)
    header, *rows = csv_out.stdout.splitlines()
    assert header.startswith("name,cost_units,cost_tokens") and rows[0].startswith("search,10000000,0.1,")
    treasury_csv = aistm7("audit", "show", "--csv", "--table", "treasury", "--rpc-url", scenario.rpc_url).stdout
    header, row = treasury_csv.splitlines()
    assert "revenue.total" in header.split(",") and "10500000" in row.split(",")
    assert "unknown table" in aistm7("audit", "show", "--table", "nope", "--rpc-url", scenario.rpc_url).stderr


def test_history_filters_by_kind_and_time(scenario: Scenario) -> None:
    def events(*args: str) -> list[dict[str, Any]]:
        done = aistm7("audit", "history", "--json", "--rpc-url", scenario.rpc_url, *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    revenue = events("--kind", "revenue")
    assert [e["data"]["batch_seq"] for e in revenue] == [1, 2]
    (fill,) = events("--kind", "fills")
    assert fill["data"]["tokens"] == 40 * TOKEN and fill["data"]["status"] == "Pending"
    updates = events("--kind", "RequirementUpdated")
    assert [e["data"]["new"] for e in updates] == [100 * TOKEN, 150 * TOKEN]
    assert events("--kind", "fees", "--since", "2999-01-01T00:00:00") == []
    (initialized,) = events("--kind", "BuybackInitialized")
    assert initialized["data"]["params"]["quote_rate"] == "UsdViaPyth"
    assert {e["event"] for e in events()} >= {"ConfigInitialized", "FeePaid", "RewardPaid", "WalletLinked", "BuyOrderOpened"}
    assert [e["event"] for e in events("--kind", "closed")] == ["AccountClosed", "AccountClosed"]
    assert [e["event"] for e in events("--kind", "proposals")] == [
        "ProposalCreated", "ProposalApproved", "ProposalCreated", "ProposalCancelled", "ProposalExecuted"
    ]
    (withdrawn,) = events("--kind", "withdrawals")
    assert (withdrawn["data"]["amount"], withdrawn["data"]["proposal"]) == (1_000, 1)
    assert [e["event"] for e in events("--kind", "access")].count("TokensLocked") == 2


def test_verify_passes_on_the_scenario(scenario: Scenario) -> None:
    done = aistm7("audit", "verify", "--json", "--rpc-url", scenario.rpc_url)
    assert done.returncode == 0, done.stdout + done.stderr
    details = {f["invariant"]: f["detail"] for f in json.loads(done.stdout)}
    findings = {f["invariant"]: f["status"] for f in json.loads(done.stdout)}
    assert set(findings.values()) == {"ok"}, findings
    assert "cap lowered" in details["token-supply-within-cap"]
    assert {"escrow-covers-open-budget", "fee-counters-match-history", "revenue-matches-history"} <= set(findings)
    assert details["order-counters-match-orders"] == "1 order account(s), 1 closed"
    assert details["orders-match-history"] == "2 order(s) opened, 1 closed"
    assert details["proposals-match-history"] == "2 proposal(s) created, 1 closed"
    assert details["locked-tokens-accounted"] == f"1 lock(s), total_locked {150 * TOKEN}, lock vault {150 * TOKEN}"
    assert details["locks-match-history"] == "1 lock(s), 2 wallet(s) ever locked"


def _read(rpc_url: str) -> tuple[Snapshot, History]:
    async def read() -> tuple[Snapshot, History]:
        client = Aistm7Client.connect(rpc_url, Keypair())
        try:
            snapshot = await snapshot_module.take(client)
            return snapshot, await read_history(client, upto=snapshot.last_signature)
        finally:
            await client.close()

    return asyncio.run(read())


def test_each_new_check_names_what_breaks_it(scenario: Scenario) -> None:
    """The lock, proposal and closed-order checks on the scenario's state,
    each with one thing changed in memory."""
    s, history = _read(scenario.rpc_url)
    assert s.buyback is not None and history.complete
    (lock,), (proposal,), (order,) = s.access_locks, s.proposals, s.orders

    def status(finding: verify.Finding) -> tuple[str, str]:
        return finding.status, finding.detail

    assert verify.locked_tokens_accounted(s).status == "ok"
    owed_more = replace(s, config=replace(s.config, total_locked=s.config.total_locked + 1))
    assert status(verify.locked_tokens_accounted(owed_more)) == ("violated", (
        f"locks hold {150 * TOKEN} (locked + unlocking), total_locked is {150 * TOKEN + 1}; "
        f"lock vault holds {150 * TOKEN}, the locks are owed {150 * TOKEN + 1}"
    ))
    unlocking_more = replace(s, access_locks=[replace(lock, unlocking=lock.unlocking + 1)])
    assert verify.locked_tokens_accounted(unlocking_more).status == "violated"
    assert status(verify.locks_match_history(unlocking_more, history)) == (
        "violated", f"wallet {scenario.locker}: lock holds {150 * TOKEN + 1}, events give {150 * TOKEN}"
    )

    early = replace(s, proposals=[replace(proposal, executable_at=proposal.quorum_at + 1)])
    assert "not quorum" in verify.proposals_follow_council_rules(early).detail
    no_quorum = replace(s, proposals=[replace(proposal, quorum_at=0, executable_at=0)])
    assert status(verify.proposals_follow_council_rules(no_quorum)) == (
        "violated", "proposal 1 was executed without a quorum; proposal 1 has 1 of 1 approvals, quorum_at 0"
    )
    assert verify.proposals_match_history(replace(s, proposals=[]), history).detail == (
        "proposal accounts [] without events, [1] created and never closed"
    )

    # The pending order cannot have been closed; a settled one may be.
    vanished = replace(s, orders=[])
    assert status(verify.order_counters_match_orders(vanished)) == (
        "violated", "counters leave 1 order(s) open, 0 pending order account(s)"
    )
    assert verify.orders_match_history(vanished, history).status == "violated"
    overspent = replace(s, orders=[replace(order, quote_spent=s.buyback.metrics.quote_spent + 1)])
    assert "quote_spent is" in verify.order_totals_match_metrics(overspent).detail
    assert "order 2 spent" in verify.orders_match_history(overspent, history).detail


def test_report_renders_the_scenario_offline(scenario: Scenario, tmp_path: Path) -> None:
    done = aistm7("audit", "report", "--out", str(tmp_path / "report"), "--rpc-url", scenario.rpc_url)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "report.html").read_text()
    assert "<script" not in page and not re.search(r'(src|href)="https?:', page)

    def points(chart: str) -> list[dict[str, Any]]:
        found = re.search(rf'<figure class="chart" id="{chart}" data-points="([^"]*)">.*?(<svg.*?</svg>)', page, re.S)
        assert found is not None, chart
        return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]

    assert [(p["price_usd"], p["required_tokens"]) for p in points("price-requirement")] == [(0.15, 100.0), (0.1, 150.0)]
    flows = points("revenue-spend")
    assert [p["revenue_zar"] for p in flows] == [100_000.0, 100_000.0, 105_000.0, 105_000.0]
    assert flows[-1]["buy_orders_zar"] == 10_500.0
    fees = {p["service"]: p["total_tokens"] for p in points("fees-by-service")}
    assert fees == {"search": 0.2, "goal": 1.0, "analysis": 0.0, "notification": 0.0}


def _dump(rpc_url: str, directory: Path, mint: Pubkey, order_id: int) -> list[str]:
    """Every aistm7 account plus its vaults, escrows and mints as
    solana-test-validator account files; `--account` flags loading them."""

    async def read() -> list[tuple[Pubkey, Any]]:
        client = Aistm7Client.connect(rpc_url, Keypair())
        try:
            owned = (await client.connection.get_program_accounts(addresses.PROGRAM_ID, Confirmed, encoding="base64")).value
            found = [(item.pubkey, item.account) for item in owned]
            config = (await client.fetch_config()).data  # type: ignore[union-attr]
            buyback = (await client.fetch_buyback()).data  # type: ignore[union-attr]
            escrows = [raw.escrow for _, raw in await client.fetch_all("BuyOrder")]
            tokens = [config.mint, config.treasury_vault, config.reward_vault, config.buyback_vault, config.lock_vault,
                      buyback.quote_mint, buyback.quote_vault, *escrows]
            values = (await client.connection.get_multiple_accounts(tokens, Confirmed)).value
            return found + [(key, value) for key, value in zip(tokens, values) if value is not None]
        finally:
            await client.close()

    flags = []
    for key, account in asyncio.run(read()):
        data = bytes(account.data)
        if key == addresses.order_escrow_pda(order_id):
            data = data[:64] + (1).to_bytes(8, "little") + data[72:]  # the escrow keeps 1 unit of its open budget
        if key == addresses.lock_vault_pda(mint):
            held = int.from_bytes(data[64:72], "little")
            data = data[:64] + (held - 1).to_bytes(8, "little") + data[72:]  # one locked unit went missing
        path = directory / f"{key}.json"
        body = {"lamports": account.lamports, "data": [base64.b64encode(data).decode(), "base64"],
                "owner": str(account.owner), "executable": account.executable, "rentEpoch": 0, "space": len(data)}
        path.write_text(json.dumps({"pubkey": str(key), "account": body}))
        flags += ["--account", str(key), str(path)]
    return flags


def test_verify_names_a_drained_escrow_and_lock_vault(
    scenario: Scenario, xprocess, tmp_path_factory  # type: ignore[no-untyped-def]
) -> None:
    flags = _dump(scenario.rpc_url, tmp_path_factory.mktemp("accounts"), scenario.mint, scenario.order_id)
    copy = launch_validator(xprocess, "localnet-audit-copy", tmp_path_factory.mktemp("copy-ledger"), flags)
    try:
        done = aistm7("audit", "verify", "--rpc-url", copy)
        assert done.returncode == 1, done.stdout
        violated = re.findall(r"^VIOLATED\s+([\w-]+): (.*)$", done.stdout, re.M)
        assert [name for name, _ in violated] == ["escrow-covers-open-budget", "locked-tokens-accounted"]
        assert "order 2" in violated[0][1] and "holds 1," in violated[0][1]
        assert violated[1][1] == f"lock vault holds {150 * TOKEN - 1}, the locks are owed {150 * TOKEN}"
        assert "escrow-covers-open-budget, locked-tokens-accounted" in done.stderr
        assert "SKIPPED   fee-counters-match-history: history does not reach back" in done.stdout
        assert "SKIPPED   token-supply-within-cap: supply" in done.stdout
    finally:
        xprocess.getinfo("localnet-audit-copy").terminate()


def test_an_unreachable_rpc_is_a_clean_exit_after_retries() -> None:
    done = aistm7("audit", "verify", "--rpc-url", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert "RPC unreachable or failing: ConnectError" in done.stderr and "Traceback" not in done.stderr
    assert "retry 4 of 4" in done.stderr
