"""Auditor tools against a chain of their own after a scripted scenario
(deploy, two prices, fees, a wallet link, a reward, revenue, a buy-order and a
fill): `show` gives the scenario's values, `verify` passes, a copy of the state
whose escrow was drained fails it, and the report charts the scenario."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import ACCOUNT_LEN, MINT_LEN

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.deploy import deploy, deploy_buyback
from keeper.state import TOKEN, BuybackParams, OracleParams
from keeper.token import create_mint_ixs, create_token_account_ixs, mint_to_ix
from tests.conftest import INITIAL_SUPPLY, PRIMARY_FEED, ROOT, SOL, Roles, _fund, airdrop, launch_validator, token_account
from tests.test_buyback import USD_ZAR_FEED, advance

ZAR = 100


@dataclass(frozen=True)
class Scenario:
    rpc_url: str
    mint: Pubkey
    user: Pubkey
    order_id: int
    fill: dict[str, Any]
    opened: dict[str, Any]


def aistm7(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "aistm7"), *args], capture_output=True, text=True, timeout=300, check=False
    )


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

        quote = Keypair()
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
        await client.send(create_mint_ixs(payer, quote.pubkey(), payer, 6, rent), [quote])
        council = [roles.admin.pubkey()]
        await deploy_buyback(client, roles.admin, quote.pubkey(), BuybackParams(usd_zar_feed_id=USD_ZAR_FEED), council)
        await client.send([mint_to_ix(quote.pubkey(), addresses.quote_vault_pda(), payer, 10**12)])
        keeper = roles.keeper.pubkey()
        await client.send([client.report_revenue_ix(keeper, 1, [("course_sale", 100_000 * ZAR)])], [roles.keeper])
        await client.send([client.report_revenue_ix(keeper, 2, [("subscription", 5_000 * ZAR)])], [roles.keeper])
        await prices(15_000_000)
        ix = client.execute_buy_order_ix(keeper, 1, quote.pubkey(), token_feed.pubkey(), fx_feed.pubkey())
        (opened,) = client.events((await client.send([ix], [roles.keeper])).logs)

        seller = Keypair()
        await airdrop(client, seller.pubkey(), SOL)
        seller_tokens = await token_account(client, roles.admin, mint, seller.pubkey(), 100 * TOKEN)
        seller_quote = Keypair()
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(ACCOUNT_LEN)).value
        await client.send(create_token_account_ixs(payer, seller_quote.pubkey(), quote.pubkey(), seller.pubkey(), rent), [seller_quote])
        fill_ix = client.fill_buy_order_ix(
            seller.pubkey(), 1, mint, quote.pubkey(), seller_tokens, seller_quote.pubkey(),
            token_feed.pubkey(), fx_feed.pubkey(), 40 * TOKEN,
        )
        (filled,) = client.events((await client.send([fill_ix], [seller])).logs)
        lower_cap = client.set_token_params_ix(roles.admin.pubkey(), max_supply=INITIAL_SUPPLY // 2)
        await client.send([lower_cap], [roles.admin])  # below the supply: minting stops, nothing is violated
        as_dict = lambda event: {k: getattr(event.data, k) for k in ("id", "quote_budget", "quote_paid", "tokens") if hasattr(event.data, k)}  # noqa: E731
        return Scenario(rpc_url, mint, user.pubkey(), 1, as_dict(filled), as_dict(opened))
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
    (order,) = shown["buy_orders"]
    assert (order["status"], order["quote_budget"]) == ("Pending", scenario.opened["quote_budget"])
    escrow = next(a for a in shown["token_accounts"] if a["role"] == "order_1_escrow")
    assert escrow["amount"] == scenario.opened["quote_budget"] - scenario.fill["quote_paid"]
    assert [link["wallet"] for link in shown["wallet_links"]] == [str(scenario.user)]
    assert shown["config"]["rewards"]["paid_total"] == 3 * TOKEN

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


def test_verify_passes_on_the_scenario(scenario: Scenario) -> None:
    done = aistm7("audit", "verify", "--json", "--rpc-url", scenario.rpc_url)
    assert done.returncode == 0, done.stdout + done.stderr
    details = {f["invariant"]: f["detail"] for f in json.loads(done.stdout)}
    findings = {f["invariant"]: f["status"] for f in json.loads(done.stdout)}
    assert set(findings.values()) == {"ok"}, findings
    assert "cap lowered" in details["token-supply-within-cap"]
    assert {"escrow-covers-open-budget", "fee-counters-match-history", "revenue-matches-history"} <= set(findings)


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
    assert [p["revenue_zar"] for p in flows] == [100_000.0, 105_000.0, 105_000.0]
    assert flows[-1]["buy_orders_zar"] == 10_500.0
    fees = {p["service"]: p["total_tokens"] for p in points("fees-by-service")}
    assert fees == {"search": 0.2, "goal": 1.0, "analysis": 0.0, "notification": 0.0}


def _dump(rpc_url: str, directory: Path) -> list[str]:
    """Every aistm7 account plus its vaults, escrows and mints as
    solana-test-validator account files; `--account` flags loading them."""

    async def read() -> list[tuple[Pubkey, Any]]:
        client = Aistm7Client.connect(rpc_url, Keypair())
        try:
            owned = (await client.connection.get_program_accounts(addresses.PROGRAM_ID, Confirmed, encoding="base64")).value
            found = [(item.pubkey, item.account) for item in owned]
            config = (await client.fetch_config()).data  # type: ignore[union-attr]
            buyback = (await client.fetch_buyback()).data  # type: ignore[union-attr]
            orders = [(await client.fetch_buy_order(i)).data.escrow for i in range(1, buyback.next_order_id)]  # type: ignore[union-attr]
            tokens = [config.mint, config.treasury_vault, config.reward_vault, config.buyback_vault,
                      buyback.quote_mint, buyback.quote_vault, *orders]
            values = (await client.connection.get_multiple_accounts(tokens, Confirmed)).value
            return found + [(key, value) for key, value in zip(tokens, values) if value is not None]
        finally:
            await client.close()

    flags = []
    for key, account in asyncio.run(read()):
        data = bytes(account.data)
        if key == addresses.order_escrow_pda(1):
            data = data[:64] + (1).to_bytes(8, "little") + data[72:]  # the escrow keeps 1 unit of its open budget
        path = directory / f"{key}.json"
        body = {"lamports": account.lamports, "data": [base64.b64encode(data).decode(), "base64"],
                "owner": str(account.owner), "executable": account.executable, "rentEpoch": 0, "space": len(data)}
        path.write_text(json.dumps({"pubkey": str(key), "account": body}))
        flags += ["--account", str(key), str(path)]
    return flags


def test_verify_names_an_escrow_that_no_longer_covers_its_order(
    scenario: Scenario, xprocess, tmp_path_factory  # type: ignore[no-untyped-def]
) -> None:
    flags = _dump(scenario.rpc_url, tmp_path_factory.mktemp("accounts"))
    copy = launch_validator(xprocess, "localnet-audit-copy", tmp_path_factory.mktemp("copy-ledger"), flags)
    try:
        done = aistm7("audit", "verify", "--rpc-url", copy)
        assert done.returncode == 1, done.stdout
        violated = re.findall(r"^VIOLATED\s+([\w-]+): (.*)$", done.stdout, re.M)
        assert [name for name, _ in violated] == ["escrow-covers-open-budget"]
        assert "order 1" in violated[0][1] and "holds 1," in violated[0][1]
        assert "escrow-covers-open-budget" in done.stderr
        assert "SKIPPED   fee-counters-match-history: history does not reach back" in done.stdout
        assert "SKIPPED   token-supply-within-cap: supply" in done.stdout
    finally:
        xprocess.getinfo("localnet-audit-copy").terminate()


def test_an_unreachable_rpc_is_a_clean_exit_after_retries() -> None:
    done = aistm7("audit", "verify", "--rpc-url", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert "RPC unreachable or failing: ConnectError" in done.stderr and "Traceback" not in done.stderr
    assert "retry 4 of 4" in done.stderr
