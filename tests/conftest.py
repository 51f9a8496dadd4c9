"""A local validator for the whole session, started with pytest-xprocess.

The real `solana-test-validator` runs when it is installed and the programs are
built for SBF (`target/deploy/*.so`); otherwise the native `aistm7-localnet`.
Both get the same flags and print the same readiness line, so tests never know
which one runs."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Iterator, Sequence

import httpx
import psycopg
import pytest
from solana.rpc.commitment import Confirmed
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction
from spl.token.constants import ACCOUNT_LEN, MINT_LEN
from xprocess import ProcessStarter

from keeper import addresses, revenue_tree
from keeper.client import Aistm7Client
from keeper.deploy import Deployment, deploy, deploy_buyback
from keeper.errors import ProgramFailure
from keeper.state import TOKEN, Authorities, BuybackParams, OracleParams
from keeper.token import create_mint_ixs, create_token_account_ixs

ROOT = Path(__file__).resolve().parent.parent
PRIMARY_FEED = bytes([0xA1]) * 32
BACKUP_FEED = bytes([0xB2]) * 32
CACHE = Path(os.environ.get("AISTM7_CACHE", Path.home() / ".cache" / "aistm7"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
NATIVE_VALIDATOR = Path(os.environ.get("AISTM7_LOCALNET_BIN", TARGET / "debug" / "aistm7-localnet"))
SOL = 10**9
# Below the default max supply, so tests can mint more through the program.
INITIAL_SUPPLY = 100_000_000 * TOKEN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_port_pair() -> int:
    """A free port whose successor is free too: a validator serves pubsub there."""
    while True:
        port = _free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def validator_command(port: int, ledger: Path, extra: Sequence[str] = (), reset: bool = True) -> list[str]:
    flags = ["--rpc-port", str(port), "--ledger", str(ledger), *(["--reset"] if reset else []), *extra]
    real = shutil.which("solana-test-validator")
    deploy_dir = ROOT / "target" / "deploy"
    programs = {addresses.PROGRAM_ID: deploy_dir / "aistm7.so", addresses.PYTH_RECEIVER_ID: deploy_dir / "mock_pyth.so"}
    if real and all(path.exists() for path in programs.values()):
        loads = [arg for pid, path in programs.items() for arg in ("--bpf-program", str(pid), str(path))]
        return [real, *flags, *loads]
    if not NATIVE_VALIDATOR.exists():
        pytest.exit(f"{NATIVE_VALIDATOR} is missing: run scripts/setup", returncode=3)
    return [str(NATIVE_VALIDATOR), *flags]


def launch_validator(xprocess, name: str, ledger: Path, extra: Sequence[str] = (), reset: bool = True) -> str:  # type: ignore[no-untyped-def]
    """Start a validator under xprocess as `name` (with `extra` flags, such as
    `--account ADDRESS FILE`) on a new chain, or with `reset=False` on the
    chain `ledger` holds; returns its RPC URL."""
    port = _free_port_pair()
    command = validator_command(port, ledger, extra, reset)

    class Starter(ProcessStarter):
        pattern = "JSON RPC URL"
        args = command
        timeout = 120
        terminate_on_interrupt = True

    xprocess.ensure(name, Starter)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def rpc_url(xprocess, tmp_path_factory) -> Iterator[str]:
    yield launch_validator(xprocess, "localnet", tmp_path_factory.mktemp("ledger"))
    xprocess.getinfo("localnet").terminate()


async def airdrop(client: Aistm7Client, to: Pubkey, lamports: int) -> None:
    signature = (await client.connection.request_airdrop(to, lamports)).value
    await client.connection.confirm_transaction(signature, Confirmed)


def _fund(rpc_url: str, keypair: Keypair, lamports: int) -> None:
    async def run() -> None:
        client = Aistm7Client.connect(rpc_url, keypair)
        try:
            await airdrop(client, keypair.pubkey(), lamports)
        finally:
            await client.close()

    asyncio.run(run())


@dataclass(frozen=True)
class Roles:
    """One keypair per authority of the session's deployment."""

    admin: Keypair
    guardian: Keypair
    keeper: Keypair
    fee_collector: Keypair
    rewarder: Keypair

    def authorities(self) -> Authorities:
        return Authorities(
            self.admin.pubkey(),
            self.guardian.pubkey(),
            self.keeper.pubkey(),
            self.fee_collector.pubkey(),
            self.rewarder.pubkey(),
        )


@pytest.fixture(scope="session")
def deployer(rpc_url: str) -> Keypair:
    keypair = Keypair()
    _fund(rpc_url, keypair, 100 * SOL)
    return keypair


@pytest.fixture(scope="session")
def roles(rpc_url: str) -> Roles:
    keys = Roles(Keypair(), Keypair(), Keypair(), Keypair(), Keypair())
    for key in (keys.admin, keys.guardian, keys.keeper, keys.fee_collector, keys.rewarder):
        _fund(rpc_url, key, 10 * SOL)
    return keys


@pytest.fixture(scope="session")
def mint_keypair() -> Keypair:
    return Keypair()


@pytest.fixture(scope="session")
def deployment(rpc_url: str, deployer: Keypair, roles: Roles, mint_keypair: Keypair) -> Deployment:
    """The session's program state: mint created, config initialized once."""

    async def run() -> Deployment:
        client = Aistm7Client.connect(rpc_url, deployer)
        try:
            oracle = OracleParams(primary_feed_id=PRIMARY_FEED, backup_feed_id=BACKUP_FEED)
            return await deploy(
                client, mint_keypair, oracle, roles.authorities(), roles.admin, initial_supply=INITIAL_SUPPLY
            )
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.fixture
async def client(rpc_url: str, deployer: Keypair) -> AsyncIterator[Aistm7Client]:
    """A client paying with the deployer (the mint authority)."""
    client = Aistm7Client.connect(rpc_url, deployer)
    yield client
    await client.close()


async def token_account(client: Aistm7Client, admin: Keypair, mint: Pubkey, owner: Pubkey, amount: int) -> Pubkey:
    """A new token account of `mint` for `owner`, holding `amount` minted through the program."""
    account = Keypair()
    rent = (await client.connection.get_minimum_balance_for_rent_exemption(ACCOUNT_LEN)).value
    ixs = create_token_account_ixs(client.payer.pubkey(), account.pubkey(), mint, owner, rent)
    signers = [account]
    if amount:
        ixs.append(client.mint_to_ix(admin.pubkey(), mint, account.pubkey(), amount))
        signers.append(admin)
    await client.send(ixs, signers)
    return account.pubkey()


async def deploy_with_treasury(client: Aistm7Client, roles: Roles, initial_supply: int | None = None) -> None:
    """A new deployment priced by the primary feed alone, with its buy-order
    treasury over a new 6-decimal quote mint (the admin is the council);
    `initial_supply` as `deploy` takes it."""
    oracle = OracleParams(primary_feed_id=PRIMARY_FEED)
    await deploy(client, Keypair(), oracle, roles.authorities(), roles.admin, initial_supply=initial_supply)
    quote = Keypair()
    rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
    await client.send(create_mint_ixs(client.payer.pubkey(), quote.pubkey(), client.payer.pubkey(), 6, rent), [quote])
    params = BuybackParams(token_feed_id=PRIMARY_FEED, usd_zar_feed_id=bytes([0xC3]) * 32)
    await deploy_buyback(client, roles.admin, quote.pubkey(), params, [roles.admin.pubkey()])


def signed_transfer(payer: Keypair, to: Pubkey, lamports: int, blockhash: Hash) -> Transaction:
    """A system transfer from `payer`, signed by it."""
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    return Transaction.new_signed_with_payer([ix], payer.pubkey(), [payer], blockhash)


def advance(rpc_url: str, seconds: int) -> None:
    """Move the local validator's clock forward (its `advanceClock` method)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "advanceClock", "params": [seconds]}
    assert "result" in httpx.post(rpc_url, json=body, timeout=60).json()


def batch_root(*entries: tuple[str, int]) -> revenue_tree.Node:
    """The root of a batch of (source, cents) events under fresh references."""
    tag = os.urandom(4).hex()
    return revenue_tree.root([revenue_tree.leaf(f"{tag}-{n}", source, cents) for n, (source, cents) in enumerate(entries)])


async def expect_failure(name: str, pending: object) -> None:
    """Await `pending` and assert it failed with the program error `name`."""
    with pytest.raises(ProgramFailure, match=name) as raised:
        await pending  # type: ignore[misc]
    assert raised.value.name == name


async def balance(client: Aistm7Client, account: Pubkey) -> int:
    return int((await client.connection.get_token_account_balance(account, Confirmed)).value.amount)


def aistm7(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run this checkout's `aistm7` command."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "aistm7"), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass(frozen=True)
class Chain:
    """A chain where `keeper` is the only revenue reporter."""

    rpc_url: str
    keeper: Keypair
    keeper_file: Path


def revenue_chain(xprocess, tmp_path_factory, name: str) -> Iterator[Chain]:  # type: ignore[no-untyped-def]
    """A validator `name` with the config and treasury deployed, for a
    module-scoped fixture; its keeper keypair is also in a file."""
    rpc_url = launch_validator(xprocess, name, tmp_path_factory.mktemp(f"{name}-ledger"))
    roles = Roles(Keypair(), Keypair(), Keypair(), Keypair(), Keypair())
    deployer = Keypair()
    for key in (deployer, roles.admin, roles.keeper):
        _fund(rpc_url, key, 10 * SOL)

    async def setup() -> None:
        client = Aistm7Client.connect(rpc_url, deployer)
        try:
            await deploy_with_treasury(client, roles)
        finally:
            await client.close()

    asyncio.run(setup())
    keeper_file = tmp_path_factory.mktemp("keys") / "keeper.json"
    keeper_file.write_text(json.dumps(list(bytes(roles.keeper))))
    yield Chain(rpc_url, roles.keeper, keeper_file)
    xprocess.getinfo(name).terminate()


def start_keeper(rpc_url: str, keeper_file: Path, journal: Path, port: int, *args: str, secret: bytes | None = None) -> subprocess.Popen[str]:
    """`aistm7 keeper run` in the background, its log on stdout."""
    env = {**os.environ, **({"AISTM7_WEBHOOK_SECRET": secret.decode()} if secret else {})}
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "aistm7"), "keeper", "run", "--rpc-url", rpc_url, "--keypair", str(keeper_file),
            "--journal", str(journal), "--http-port", str(port), *args,
        ],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop_keeper(daemon: subprocess.Popen[str]) -> str:
    """SIGTERM, then its whole log; it must have stopped cleanly."""
    daemon.terminate()
    output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output
    return output


async def wait_listening(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        for _ in range(200):
            try:
                await http.get("/metrics")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise TimeoutError(f"nothing listens on {base}")


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL's server is not installed (Debian package postgresql): run scripts/setup")
    return found[-1].parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A private PostgreSQL server from Debian's binaries for the session,
    on a free port: its URL without a database. As root it runs as the
    `postgres` user (the server refuses root)."""
    bin_dir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="aistm7-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{command[0]}: {done.stdout}{done.stderr}"

    data = root / "data"
    run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "aistm7", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-o", options, "start")
    try:
        yield f"postgresql://aistm7@127.0.0.1:{port}"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def postgres_database(server: str) -> str:
    """A new, empty database on `server`: its URL."""
    name = f"gw_{os.urandom(6).hex()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"
