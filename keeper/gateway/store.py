"""The gateway's one repository: API keys and charges, on SQLite (embedded
default) or PostgreSQL (shared by several gateway processes).

Written with SQLAlchemy Core so one set of statements runs on both; the
schema is a numbered list of migrations applied at start, under a lock
(PostgreSQL advisory lock, SQLite write lock) so processes starting together
apply each migration once. Calls are synchronous: the app runs them in
worker threads."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

# BIGINT autoincrement keys: SQLite only auto-numbers INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer, "sqlite")
MIGRATION_LOCK = 0x61697374  # any constant: the advisory lock's key

metadata = MetaData()

schema_version = Table("gateway_schema", metadata, Column("version", Integer, primary_key=True), Column("applied_at", BigInteger))

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("merchant", String(64), nullable=False),
    Column("label", String(128), nullable=False),
    Column("scopes", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("rate_per_sec", Integer, nullable=False),
    Column("burst", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

charges = Table(
    "charges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("wallet", String(44), nullable=False),
    Column("service", String(32), nullable=False),
    Column("token_account", String(44), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_units", BigInteger),
    Column("signature", String(88)),
    Column("slot", BigInteger),
    Column("error_code", String(64)),
    Column("error_message", String(512)),
    Column("owner", String(64), nullable=False),
    Column("lease_until_ms", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("completed_ms", BigInteger),
    UniqueConstraint("merchant", "request_id", name="charges_request"),
)
Index("charges_wallet_created", charges.c.wallet, charges.c.created_ms)
Index("charges_merchant_id", charges.c.merchant, charges.c.id)


def _v1(conn: Connection) -> None:
    for table in (api_keys, charges):
        table.create(conn, checkfirst=True)


MIGRATIONS: Sequence[Callable[[Connection], None]] = (_v1,)
"""Migration n+1 is MIGRATIONS[n]; append, never edit a released one."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    merchant: str
    label: str
    scopes: frozenset[str]
    secret_hash: str
    rate_per_sec: int
    burst: int
    created_at: int
    revoked_at: int | None


@dataclass(frozen=True)
class ChargeRow:
    id: int
    merchant: str
    request_id: str
    key_id: str
    wallet: str
    service: str
    token_account: str
    status: str
    amount_units: int | None
    signature: str | None
    slot: int | None
    error_code: str | None
    error_message: str | None
    owner: str
    lease_until_ms: int
    created_ms: int
    completed_ms: int | None


def _key(row: Any) -> KeyRow:
    values = dict(row._mapping)
    values["scopes"] = frozenset(values["scopes"].split(","))
    return KeyRow(**values)


def _charge(row: Any) -> ChargeRow:
    return ChargeRow(**dict(row._mapping))


def engine_for(database: str) -> Engine:
    """An engine for `database`: a postgresql:// URL, or a SQLite file
    (a path or sqlite:///path)."""
    if database.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        url = make_url(database).set(drivername="postgresql+psycopg")
        return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    path = database.removeprefix("sqlite:///")
    if "://" in path:
        raise ValueError(f"unsupported database URL {database!r}: give a postgresql:// URL or a SQLite file")
    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{Path(path).expanduser()}", connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _: Any) -> None:
        dbapi.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        dbapi.execute("PRAGMA journal_mode=WAL")
        dbapi.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Write transactions take the lock up front: no deadlocked upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


class Store:
    def __init__(self, database: str) -> None:
        self.engine = engine_for(database)
        self.postgres = self.engine.dialect.name == "postgresql"
        self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    def _write(self) -> Any:
        return self.engine.connect().execution_options(write=True)

    def _migrate(self) -> None:
        with self._write() as conn, conn.begin():
            if self.postgres:
                conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            schema_version.create(conn, checkfirst=True)
            done = conn.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one()
            for number, migration in enumerate(MIGRATIONS[done:], start=done + 1):
                migration(conn)
                conn.execute(insert(schema_version).values(version=number, applied_at=int(time.time())))

    def schema(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(schema_version.c.version))).scalar_one())

    def _upsert(self) -> Any:
        return pg_insert if self.postgres else sqlite_insert

    # --- API keys ---

    def add_key(self, row: KeyRow) -> None:
        values = {**vars(row), "scopes": ",".join(sorted(row.scopes))}
        with self._write() as conn, conn.begin():
            conn.execute(insert(api_keys).values(**values))

    def key(self, key_id: str) -> KeyRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        return None if row is None else _key(row)

    def keys(self) -> list[KeyRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)).all()
        return [_key(row) for row in rows]

    def revoke_key(self, key_id: str) -> bool:
        """Revoke `key_id`; False when no such key is live."""
        with self._write() as conn, conn.begin():
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=int(time.time()))
            )
        return bool(done.rowcount)

    # --- charges ---

    def charge(self, merchant: str, request_id: str) -> ChargeRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(charges).where(charges.c.merchant == merchant, charges.c.request_id == request_id)
            ).first()
        return None if row is None else _charge(row)

    def list_charges(self, merchant: str, starting_after: int | None, limit: int) -> list[ChargeRow]:
        """`merchant`'s charges, newest first, older than id `starting_after`."""
        query = select(charges).where(charges.c.merchant == merchant)
        if starting_after is not None:
            query = query.where(charges.c.id < starting_after)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(charges.c.id.desc()).limit(limit)).all()
        return [_charge(row) for row in rows]

    def recent_wallet_charges(self, wallet: str, since_ms: int) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(charges).where(charges.c.wallet == wallet, charges.c.created_ms >= since_ms)
                ).scalar_one()
            )

    def claim_charge(self, values: dict[str, Any]) -> bool:
        """Insert a pending charge; False when its (merchant, request_id)
        exists already (another request got there first)."""
        statement = (
            self._upsert()(charges)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["merchant", "request_id"])
            .returning(charges.c.id)
        )
        # RETURNING, not rowcount: psycopg leaves an insert's rowcount unknown (-1).
        with self._write() as conn, conn.begin():
            return conn.execute(statement).first() is not None

    def take_over(self, charge_id: int, owner: str, lease_until_ms: int) -> bool:
        """Own a pending charge whose lease has run out (its owner died);
        False when it is finished or someone else's lease still runs."""
        with self._write() as conn, conn.begin():
            done = conn.execute(
                update(charges)
                .where(charges.c.id == charge_id, charges.c.status == "pending", charges.c.lease_until_ms < now_ms())
                .values(owner=owner, lease_until_ms=lease_until_ms)
            )
        return bool(done.rowcount)

    def note_signature(self, charge_id: int, owner: str, signature: str) -> None:
        """The transaction about to be sent for a pending charge we own."""
        with self._write() as conn, conn.begin():
            conn.execute(
                update(charges)
                .where(charges.c.id == charge_id, charges.c.owner == owner, charges.c.status == "pending")
                .values(signature=signature)
            )

    def finish_charge(self, charge_id: int, **result: Any) -> ChargeRow:
        """Record a pending charge's outcome (succeeded or failed) once; the
        row as stored (another process's outcome if it finished first)."""
        with self._write() as conn, conn.begin():
            conn.execute(
                update(charges)
                .where(charges.c.id == charge_id, charges.c.status == "pending")
                .values(**result, completed_ms=now_ms())
            )
            return _charge(conn.execute(select(charges).where(charges.c.id == charge_id)).one())

    def release_charge(self, charge_id: int, owner: str) -> None:
        """Forget a pending charge we own whose transaction was never sent
        (a refusal found before sending): nothing was written then."""
        with self._write() as conn, conn.begin():
            conn.execute(
                charges.delete().where(
                    charges.c.id == charge_id, charges.c.owner == owner, charges.c.status == "pending", charges.c.signature.is_(None)
                )
            )
