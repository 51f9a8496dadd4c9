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
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url

# BIGINT autoincrement keys: SQLite only auto-numbers INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer, "sqlite")
MIGRATION_LOCK = 0x61697374  # any constants: advisory lock keys
EVENTS_LOCK = 0x61697375

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
    Column("receipt_id", String(64), nullable=False),
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
Index("charges_receipt", charges.c.receipt_id)

events = Table(
    "events",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(128), nullable=False, unique=True),
    Column("type", String(48), nullable=False),
    Column("merchant", String(64)),
    Column("slot", BigInteger),
    Column("signature", String(88)),
    Column("block_time", BigInteger),
    Column("data", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("types", String(1024), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("deleted_ms", BigInteger),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("endpoint_id", BigInteger, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("completed_ms", BigInteger),
    Column("last_status", Integer),
    Column("last_error", String(512)),
    Column("last_latency_ms", Integer),
)
Index("deliveries_endpoint_status", deliveries.c.endpoint_id, deliveries.c.status, deliveries.c.id)
Index("events_type_seq", events.c.type, events.c.seq)

attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("error", String(512)),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("until_ms", BigInteger, nullable=False),
)

cursors = Table("cursors", metadata, Column("name", String(32), primary_key=True), Column("value", String(128), nullable=False))


def _v1(conn: Connection) -> None:
    for table in (api_keys, charges):
        table.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    for table in (events, endpoints, deliveries, attempts, leases, cursors):
        table.create(conn, checkfirst=True)


MIGRATIONS: Sequence[Callable[[Connection], None]] = (_v1, _v2)
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
    receipt_id: str
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


@dataclass(frozen=True)
class EventRecord:
    """An event to record: from a transaction's logs (`event_id` is
    signature:index) or from the gateway itself (a charge's failure)."""

    event_id: str
    type: str
    merchant: str | None
    slot: int | None
    signature: str | None
    block_time: int | None
    data: str
    """JSON."""


@dataclass(frozen=True)
class EventRow:
    seq: int
    event_id: str
    type: str
    merchant: str | None
    slot: int | None
    signature: str | None
    block_time: int | None
    data: str
    created_ms: int


@dataclass(frozen=True)
class EndpointRow:
    id: int
    merchant: str
    url: str
    types: str
    secret: str
    created_ms: int
    deleted_ms: int | None

    @property
    def type_set(self) -> frozenset[str]:
        return frozenset(self.types.split(","))


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    endpoint_id: int
    event_seq: int
    status: str
    attempts: int
    next_attempt_ms: int
    created_ms: int
    completed_ms: int | None
    last_status: int | None
    last_error: str | None
    last_latency_ms: int | None


@dataclass(frozen=True)
class AttemptRow:
    id: int
    delivery_id: int
    attempt: int
    at_ms: int
    status_code: int | None
    latency_ms: int
    error: str | None


@dataclass(frozen=True)
class ChargeFilter:
    """Which charges a list, a total or an export covers (None: any)."""

    status: str | None = None
    service: str | None = None
    wallet: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None


def _charge_clauses(merchant: str, only: ChargeFilter) -> list[Any]:
    clauses: list[Any] = [charges.c.merchant == merchant]
    for column, value in ((charges.c.status, only.status), (charges.c.service, only.service), (charges.c.wallet, only.wallet)):
        if value is not None:
            clauses.append(column == value)
    if only.since_ms is not None:
        clauses.append(charges.c.created_ms >= only.since_ms)
    if only.until_ms is not None:
        clauses.append(charges.c.created_ms < only.until_ms)
    return clauses


def _row(cls: type[Any], row: Any) -> Any:
    return cls(**dict(row._mapping))


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

    def keys(self, merchant: str | None = None) -> list[KeyRow]:
        """Every key, or `merchant`'s, oldest first."""
        query = select(api_keys)
        if merchant is not None:
            query = query.where(api_keys.c.merchant == merchant)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(api_keys.c.created_at, api_keys.c.key_id)).all()
        return [_key(row) for row in rows]

    def revoke_key(self, key_id: str, merchant: str | None = None) -> bool:
        """Revoke `key_id` (only if it is `merchant`'s, when given); False when no such key is live."""
        clauses = [api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)]
        if merchant is not None:
            clauses.append(api_keys.c.merchant == merchant)
        with self._write() as conn, conn.begin():
            done = conn.execute(update(api_keys).where(*clauses).values(revoked_at=int(time.time())))
        return bool(done.rowcount)

    # --- charges ---

    def charge(self, merchant: str, request_id: str) -> ChargeRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(charges).where(charges.c.merchant == merchant, charges.c.request_id == request_id)
            ).first()
        return None if row is None else _charge(row)

    def list_charges(self, merchant: str, starting_after: int | None, limit: int, only: ChargeFilter = ChargeFilter()) -> list[ChargeRow]:
        """`merchant`'s charges that `only` lets through, newest first, older than id `starting_after`."""
        query = select(charges).where(*_charge_clauses(merchant, only))
        if starting_after is not None:
            query = query.where(charges.c.id < starting_after)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(charges.c.id.desc()).limit(limit)).all()
        return [_charge(row) for row in rows]

    def charge_totals(self, merchant: str, only: ChargeFilter = ChargeFilter()) -> list[tuple[str, str, int, int]]:
        """(service, status, charges, base units) of `merchant`'s charges that `only` lets through."""
        amount = func.coalesce(func.sum(charges.c.amount_units), 0)
        query = (
            select(charges.c.service, charges.c.status, func.count(), amount)
            .where(*_charge_clauses(merchant, only))
            .group_by(charges.c.service, charges.c.status)
            .order_by(charges.c.service, charges.c.status)
        )
        with self.engine.connect() as conn:
            return [(row[0], row[1], int(row[2]), int(row[3])) for row in conn.execute(query)]

    def claim_charge(self, values: dict[str, Any], wallet_limit: int, since_ms: int) -> str:
        """Insert a pending charge: "claimed"; "exists" when its (merchant,
        request_id) is there already (another request got there first);
        "limited" when its wallet has `wallet_limit` charges since `since_ms`.
        Count and insert are one transaction under the wallet's lock, so
        parallel requests cannot pass the limit together."""
        statement = (
            self._upsert()(charges)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["merchant", "request_id"])
            .returning(charges.c.id)
        )
        with self._write() as conn, conn.begin():
            if self.postgres:  # SQLite's BEGIN IMMEDIATE already serializes writers
                conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(values["wallet"]))))
            exists = conn.execute(
                select(charges.c.id).where(charges.c.merchant == values["merchant"], charges.c.request_id == values["request_id"])
            ).first()
            if exists is not None:
                return "exists"
            recent = conn.execute(
                select(func.count()).select_from(charges).where(charges.c.wallet == values["wallet"], charges.c.created_ms >= since_ms)
            ).scalar_one()
            if recent >= wallet_limit:
                return "limited"
            # RETURNING, not rowcount: psycopg leaves an insert's rowcount unknown (-1).
            return "claimed" if conn.execute(statement).first() is not None else "exists"

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

    def finish_charge(self, charge_id: int, outcome_events: Sequence[EventRecord], **result: Any) -> ChargeRow:
        """Record a pending charge's outcome (succeeded or failed) once, with
        the events it raises; the row as stored (another process's outcome
        if it finished first)."""
        with self._write() as conn, conn.begin():
            done = conn.execute(
                update(charges)
                .where(charges.c.id == charge_id, charges.c.status == "pending")
                .values(**result, completed_ms=now_ms())
            )
            if done.rowcount:
                self._record(conn, outcome_events)
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

    def merchant_of_receipt(self, receipt_id: str) -> str | None:
        """The merchant whose charge has this on-chain receipt id (hex)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(charges.c.merchant).where(charges.c.receipt_id == receipt_id).limit(1)).first()
        return None if found is None else str(found[0])

    # --- leases and cursors ---

    def lease(self, name: str, owner: str, ttl_ms: int) -> bool:
        """Hold (or renew) the lease `name` for `ttl_ms`; False while another
        owner's lease runs."""
        now = now_ms()
        with self._write() as conn, conn.begin():
            renewed = conn.execute(
                update(leases)
                .where(leases.c.name == name, or_(leases.c.owner == owner, leases.c.until_ms < now))
                .values(owner=owner, until_ms=now + ttl_ms)
            )
            if renewed.rowcount:
                return True
            claim = self._upsert()(leases).values(name=name, owner=owner, until_ms=now + ttl_ms)
            return conn.execute(claim.on_conflict_do_nothing(index_elements=["name"]).returning(leases.c.name)).first() is not None

    def cursor(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(cursors.c.value).where(cursors.c.name == name)).first()
        return None if found is None else str(found[0])

    # --- events and their deliveries (the outbox) ---

    def record_events(self, records: Sequence[EventRecord], cursor: tuple[str, str] | None = None) -> list[int]:
        """Record new events and, in the same transaction, one pending
        delivery per live endpoint that wants each (the outbox), and move
        `cursor` (name, value); events already recorded are skipped. The
        new events' sequence numbers."""
        with self._write() as conn, conn.begin():
            added = self._record(conn, records)
            if cursor is not None:
                name, value = cursor
                moved = conn.execute(update(cursors).where(cursors.c.name == name).values(value=value))
                if not moved.rowcount:
                    conn.execute(insert(cursors).values(name=name, value=value))
        return added

    def _record(self, conn: Connection, records: Sequence[EventRecord]) -> list[int]:
        created = now_ms()
        added: list[int] = []
        if records:
            if self.postgres:
                # Commit order must be sequence order, or a reader past seq n
                # could miss an event n-1 that committed later.
                conn.execute(select(func.pg_advisory_xact_lock(EVENTS_LOCK)))
            hooks = [_row(EndpointRow, row) for row in conn.execute(select(endpoints).where(endpoints.c.deleted_ms.is_(None)))]
            for record in records:
                statement = self._upsert()(events).values(**vars(record), created_ms=created)
                inserted = conn.execute(statement.on_conflict_do_nothing(index_elements=["event_id"]).returning(events.c.seq)).first()
                if inserted is None:
                    continue
                seq = int(inserted[0])
                added.append(seq)
                wanted = [
                    {"endpoint_id": hook.id, "event_seq": seq, "status": "pending", "attempts": 0, "next_attempt_ms": created, "created_ms": created}
                    for hook in hooks
                    if record.type in hook.type_set and (record.merchant is None or record.merchant == hook.merchant)
                ]
                if wanted:
                    conn.execute(insert(deliveries), wanted)
        return added

    def events_after(self, seq: int, merchant: str, types: frozenset[str] | None, limit: int) -> list[EventRow]:
        """Events past `seq` that `merchant` may see (its own and everyone's), oldest first."""
        query = select(events).where(events.c.seq > seq, or_(events.c.merchant.is_(None), events.c.merchant == merchant))
        if types:
            query = query.where(events.c.type.in_(sorted(types)))
        with self.engine.connect() as conn:
            return [_row(EventRow, row) for row in conn.execute(query.order_by(events.c.seq).limit(limit))]

    def events_before(self, seq: int, merchant: str, types: frozenset[str] | None, limit: int) -> list[EventRow]:
        """Events before `seq` that `merchant` may see, newest first."""
        query = select(events).where(events.c.seq < seq, or_(events.c.merchant.is_(None), events.c.merchant == merchant))
        if types:
            query = query.where(events.c.type.in_(sorted(types)))
        with self.engine.connect() as conn:
            return [_row(EventRow, row) for row in conn.execute(query.order_by(events.c.seq.desc()).limit(limit))]

    def events_since(self, type_: str, since_block_time: int) -> list[EventRow]:
        """Everyone's events of `type_` in blocks from `since_block_time` on, oldest first."""
        query = select(events).where(events.c.type == type_, events.c.merchant.is_(None), events.c.block_time >= since_block_time)
        with self.engine.connect() as conn:
            return [_row(EventRow, row) for row in conn.execute(query.order_by(events.c.seq))]

    def event_seq(self, event_id: str, merchant: str) -> int | None:
        """The seq of an event `merchant` may see."""
        query = select(events.c.seq).where(events.c.event_id == event_id, or_(events.c.merchant.is_(None), events.c.merchant == merchant))
        with self.engine.connect() as conn:
            found = conn.execute(query).first()
        return None if found is None else int(found[0])

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one())

    def last_event(self, type_: str, containing: str) -> EventRow | None:
        """The newest event of `type_` whose JSON data contains `containing`."""
        query = select(events).where(events.c.type == type_, events.c.data.contains(containing, autoescape=True))
        with self.engine.connect() as conn:
            found = conn.execute(query.order_by(events.c.seq.desc()).limit(1)).first()
        return None if found is None else _row(EventRow, found)

    def add_endpoint(self, merchant: str, url: str, types: Sequence[str], secret: str) -> EndpointRow:
        values = {"merchant": merchant, "url": url, "types": ",".join(sorted(types)), "secret": secret, "created_ms": now_ms()}
        with self._write() as conn, conn.begin():
            new_id = conn.execute(insert(endpoints).values(**values).returning(endpoints.c.id)).scalar_one()
            return _row(EndpointRow, conn.execute(select(endpoints).where(endpoints.c.id == new_id)).one())  # type: ignore[no-any-return]

    def endpoint(self, endpoint_id: int) -> EndpointRow | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).first()
        return None if found is None else _row(EndpointRow, found)

    def list_endpoints(self, merchant: str) -> list[EndpointRow]:
        query = select(endpoints).where(endpoints.c.merchant == merchant, endpoints.c.deleted_ms.is_(None)).order_by(endpoints.c.id)
        with self.engine.connect() as conn:
            return [_row(EndpointRow, row) for row in conn.execute(query)]

    def delete_endpoint(self, merchant: str, endpoint_id: int) -> bool:
        """Stop an endpoint: its pending deliveries are cancelled, its log kept."""
        now = now_ms()
        with self._write() as conn, conn.begin():
            gone = conn.execute(
                update(endpoints)
                .where(endpoints.c.id == endpoint_id, endpoints.c.merchant == merchant, endpoints.c.deleted_ms.is_(None))
                .values(deleted_ms=now)
            )
            if gone.rowcount:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.endpoint_id == endpoint_id, deliveries.c.status == "pending")
                    .values(status="cancelled", completed_ms=now)
                )
        return bool(gone.rowcount)

    def due_deliveries(self, now: int, limit: int) -> list[tuple[DeliveryRow, EndpointRow, EventRow]]:
        """Each live endpoint's oldest pending delivery, when it is due:
        a later delivery never overtakes an earlier one of its endpoint."""
        head = (
            select(func.min(deliveries.c.id))
            .where(deliveries.c.status == "pending")
            .group_by(deliveries.c.endpoint_id)
            .scalar_subquery()
        )
        query = (
            select(deliveries, endpoints, events)
            .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
            .join(events, events.c.seq == deliveries.c.event_seq)
            .where(deliveries.c.id.in_(head), deliveries.c.next_attempt_ms <= now, endpoints.c.deleted_ms.is_(None))
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        found = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                values = list(row)
                split, end = len(deliveries.c), len(deliveries.c) + len(endpoints.c)
                found.append((DeliveryRow(*values[:split]), EndpointRow(*values[split:end]), EventRow(*values[end:])))
        return found

    def record_attempt(
        self, delivery: DeliveryRow, status_code: int | None, latency_ms: int, error: str | None, outcome: str, next_attempt_ms: int
    ) -> None:
        """One attempt of `delivery` and its outcome: delivered, failed (given
        up) or pending again from `next_attempt_ms`."""
        now = now_ms()
        attempt = delivery.attempts + 1
        with self._write() as conn, conn.begin():
            conn.execute(
                insert(attempts).values(
                    delivery_id=delivery.id, attempt=attempt, at_ms=now, status_code=status_code, latency_ms=latency_ms,
                    error=None if error is None else error[:512],
                )
            )
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery.id, deliveries.c.status == "pending")
                .values(
                    status=outcome, attempts=attempt, next_attempt_ms=next_attempt_ms, last_status=status_code,
                    last_error=None if error is None else error[:512], last_latency_ms=latency_ms,
                    completed_ms=None if outcome == "pending" else now,
                )
            )

    def list_deliveries(self, endpoint_id: int, starting_after: int | None, limit: int) -> list[tuple[DeliveryRow, str, str, list[AttemptRow]]]:
        """An endpoint's deliveries newest first, each with its event's id and
        type and its attempts."""
        query = (
            select(deliveries, events.c.event_id, events.c.type)
            .join(events, events.c.seq == deliveries.c.event_seq)
            .where(deliveries.c.endpoint_id == endpoint_id)
        )
        if starting_after is not None:
            query = query.where(deliveries.c.id < starting_after)
        with self.engine.connect() as conn:
            split = len(deliveries.c)
            rows = [
                (DeliveryRow(*list(row)[:split]), str(row[split]), str(row[split + 1]))
                for row in conn.execute(query.order_by(deliveries.c.id.desc()).limit(limit))
            ]
            ids = [delivery.id for delivery, _, _ in rows]
            tried: dict[int, list[AttemptRow]] = {i: [] for i in ids}
            if ids:
                for row in conn.execute(select(attempts).where(attempts.c.delivery_id.in_(ids)).order_by(attempts.c.id)):
                    found = _row(AttemptRow, row)
                    tried[found.delivery_id].append(found)
        return [(delivery, event_id, type_, tried[delivery.id]) for delivery, event_id, type_ in rows]

    def test_delivery(self, endpoint: EndpointRow, record: EventRecord) -> int:
        """Record `record` (a test event of the endpoint's merchant) with one
        pending delivery, to `endpoint` only, whatever types it wants; the delivery's id."""
        now = now_ms()
        with self._write() as conn, conn.begin():
            if self.postgres:
                conn.execute(select(func.pg_advisory_xact_lock(EVENTS_LOCK)))  # as in _record
            seq = conn.execute(insert(events).values(**vars(record), created_ms=now).returning(events.c.seq)).scalar_one()
            values = {"endpoint_id": endpoint.id, "event_seq": seq, "status": "pending", "attempts": 0, "next_attempt_ms": now, "created_ms": now}
            return int(conn.execute(insert(deliveries).values(**values).returning(deliveries.c.id)).scalar_one())

    def replay(self, endpoint_id: int, delivery_id: int) -> int | None:
        """A new pending delivery of the event of `delivery_id` to its
        endpoint (None when there is no such delivery)."""
        now = now_ms()
        with self._write() as conn, conn.begin():
            found = conn.execute(
                select(deliveries.c.event_seq).where(deliveries.c.id == delivery_id, deliveries.c.endpoint_id == endpoint_id)
            ).first()
            if found is None:
                return None
            values = {"endpoint_id": endpoint_id, "event_seq": found[0], "status": "pending", "attempts": 0, "next_attempt_ms": now, "created_ms": now}
            return int(conn.execute(insert(deliveries).values(**values).returning(deliveries.c.id)).scalar_one())
