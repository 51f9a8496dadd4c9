"""`aistm7 gateway`: run the merchant gateway and manage its API keys."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer

from keeper import log
from keeper.cli_common import AsJson, RpcUrl
from keeper.config import DEFAULT_GATEWAY_DATABASE
from keeper.gateway import keys
from keeper.gateway.charges import DEFAULT_LEASE_SECS, DEFAULT_WALLET_CHARGES_PER_MIN
from keeper.gateway.chain import DEFAULT_TTL_SECS
from keeper.gateway.events import DEFAULT_ALERT_BPS
from keeper.gateway.webhooks import DEFAULT_GIVE_UP_SECS, DEFAULT_RETRY_BASE_SECS, DEFAULT_RETRY_MAX_SECS
from keeper.gateway.store import Store

gateway_app = typer.Typer(
    help="The merchant gateway: a REST API (/v1, OpenAPI at /v1/openapi.json) for access checks, "
    "service-fee charges and program state, with API keys.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="API keys of the gateway (shown once, stored hashed).", no_args_is_help=True)
gateway_app.add_typer(keys_app, name="keys")

Database = typer.Option(
    str(DEFAULT_GATEWAY_DATABASE), "--database", envvar="AISTM7_GATEWAY_DATABASE",
    help="A SQLite file (embedded, one process) or postgresql://user:password@host:port/db (shared by several processes).",
)


def _store(database: str) -> Store:
    try:
        return Store(database)
    except Exception as exc:  # any driver's failure to open is a clean exit
        typer.echo(f"cannot open the database {database}: {exc}", err=True)
        raise typer.Exit(2) from exc


@keys_app.command("create")
def keys_create(
    merchant: str = typer.Option(..., "--merchant", help="The merchant the key acts for (request ids and charges are per merchant)."),
    scope: list[str] = typer.Option(["read"], "--scope", help="read, charge or admin; repeat for several."),
    label: str = typer.Option("", "--label", help="A note for people (where the key is used)."),
    rate: int = typer.Option(50, "--rate", min=1, help="Requests a second (token bucket, per gateway process)."),
    burst: int = typer.Option(100, "--burst", min=1, help="Requests allowed at once above the rate."),
    database: str = Database,
    as_json: bool = AsJson,
) -> None:
    """Create a key and print it: it is shown this once, only its hash is kept."""
    store = _store(database)
    try:
        made = keys.create(store, merchant, set(scope), label, rate, burst)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps({"key_id": made.row.key_id, "api_key": made.token, "merchant": merchant, "scopes": sorted(made.row.scopes)}))
        return
    typer.echo(made.token)
    typer.echo(f"key {made.row.key_id} for {merchant}, scopes {','.join(sorted(made.row.scopes))}: store it now, it is not shown again", err=True)


@keys_app.command("list")
def keys_list(database: str = Database, as_json: bool = AsJson) -> None:
    """Every key (never its secret): id, merchant, scopes, limits, when created and revoked."""
    store = _store(database)
    try:
        rows = store.keys()
    finally:
        store.close()
    shown = [keys.as_dict(row) for row in rows]
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    typer.echo(f"{'key_id':<18}{'merchant':<20}{'scopes':<20}{'rate':>6}{'burst':>7}  {'revoked':<8}label")
    for key in shown:
        revoked = "yes" if key["revoked_at"] else "no"
        typer.echo(
            f"{key['key_id']:<18}{key['merchant']:<20}{','.join(key['scopes']):<20}"  # type: ignore[arg-type]
            f"{key['rate_per_sec']:>6}{key['burst']:>7}  {revoked:<8}{key['label']}"
        )


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="The key's id (the part after agw_)."), database: str = Database) -> None:
    """Revoke a key: every gateway process refuses it within a few seconds."""
    store = _store(database)
    try:
        revoked = store.revoke_key(key_id)
    finally:
        store.close()
    if not revoked:
        typer.echo(f"no live key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@gateway_app.command("run")
def gateway_run(
    rpc_url: str = RpcUrl,
    database: str = Database,
    host: str = typer.Option("127.0.0.1", "--host", envvar="AISTM7_GATEWAY_HOST", help="Address to listen on."),
    port: int = typer.Option(8790, "--port", envvar="AISTM7_GATEWAY_PORT", help="Port to listen on."),
    fee_collector_keypair: Optional[Path] = typer.Option(
        None, "--fee-collector-keypair", envvar="AISTM7_FEE_COLLECTOR_KEYPAIR",
        help="The program's fee collector key (solana-keygen JSON); without it POST /v1/charges answers 503.",
    ),
    cache_ttl: float = typer.Option(
        DEFAULT_TTL_SECS, "--cache-ttl", envvar="AISTM7_GATEWAY_CACHE_TTL", min=0.0,
        help="Seconds a chain read (access, requirement, fees, orders) is served from cache.",
    ),
    key_cache: float = typer.Option(
        keys.DEFAULT_CACHE_SECS, "--key-cache", envvar="AISTM7_GATEWAY_KEY_CACHE", min=0.0,
        help="Seconds a looked-up API key is trusted (a revocation reaches this process within it).",
    ),
    charge_lease: float = typer.Option(
        DEFAULT_LEASE_SECS, "--charge-lease", envvar="AISTM7_GATEWAY_CHARGE_LEASE", min=0.5,
        help="Seconds a process owns a charge it is sending; after that another process may settle it.",
    ),
    wallet_charges_per_min: int = typer.Option(
        DEFAULT_WALLET_CHARGES_PER_MIN, "--wallet-charges-per-min", envvar="AISTM7_GATEWAY_WALLET_LIMIT", min=1,
        help="Charges a wallet may get a minute, over all merchants.",
    ),
    allow_private_webhooks: bool = typer.Option(
        False, "--allow-private-webhooks", envvar="AISTM7_GATEWAY_ALLOW_PRIVATE_WEBHOOKS",
        help="Accept webhook URLs on loopback and private addresses (local setups; never on a shared network).",
    ),
    webhook_retry_base: float = typer.Option(
        DEFAULT_RETRY_BASE_SECS, "--webhook-retry-base", envvar="AISTM7_GATEWAY_WEBHOOK_RETRY_BASE", min=0.05,
        help="Seconds before a failed delivery's first retry; each retry waits twice as long (with jitter).",
    ),
    webhook_retry_max: float = typer.Option(
        DEFAULT_RETRY_MAX_SECS, "--webhook-retry-max", envvar="AISTM7_GATEWAY_WEBHOOK_RETRY_MAX", min=0.05,
        help="The longest wait between retries: an endpoint back up gets its events within it.",
    ),
    webhook_give_up: float = typer.Option(
        DEFAULT_GIVE_UP_SECS, "--webhook-give-up", envvar="AISTM7_GATEWAY_WEBHOOK_GIVE_UP", min=1.0,
        help="Seconds after an event its delivery is given up (marked failed; replayable).",
    ),
    alert_price_bps: int = typer.Option(
        DEFAULT_ALERT_BPS, "--alert-price-bps", envvar="AISTM7_GATEWAY_ALERT_PRICE_BPS", min=1,
        help="A requirement price move that raises alert.price_moved (bps since the last price).",
    ),
    keeper_url: Optional[str] = typer.Option(
        None, "--keeper-url", envvar="AISTM7_GATEWAY_KEEPER_URL",
        help="The keeper's HTTP API (e.g. http://127.0.0.1:8787): GET /v1/keeper and /v1/revenue/proofs/{ref} ask it.",
    ),
    log_json: bool = typer.Option(False, "--log-json", envvar="AISTM7_LOG_JSON", help="Log one JSON object a line."),
) -> None:
    """Serve the gateway and its dashboard (at /) until SIGINT or SIGTERM (requests in flight finish first).

    Endpoints (Authorization: Bearer agw_...): GET /v1/me, /v1/access/{wallet},
    /v1/requirement, /v1/fees, /v1/buy-orders, /v1/treasury,
    /v1/revenue/summary, /v1/revenue/daily, /v1/revenue/proofs/{ref},
    /v1/keeper, /v1/events, WebSocket /v1/stream (scope read); POST
    /v1/charges, GET /v1/charges[/{request_id}], /v1/reports/charge-totals,
    /v1/reports/charges.csv (scope charge); /v1/webhooks..., /v1/keys...
    (scope admin); GET /v1/health (no key); the dashboard at / signs in with
    any of these keys. Several processes can share one PostgreSQL: one
    of them at a time (a lease) indexes the program's events and delivers
    webhooks."""
    import uvloop

    from keeper.gateway import server  # FastAPI and uvicorn load only for the server

    log.configure(log_json)
    settings = server.Settings(
        rpc_url, database, host, port, fee_collector_keypair, cache_ttl, key_cache, charge_lease, wallet_charges_per_min,
        allow_private_webhooks, webhook_retry_base, webhook_retry_max, webhook_give_up, alert_price_bps,
        keeper_url.rstrip("/") if keeper_url else None,
    )
    try:
        # uvloop, as uvicorn would pick on its own: the loop is ours here (the leader loop shares it).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(server.serve(settings))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


@gateway_app.command("listen")
def gateway_listen(
    secret: str = typer.Option(..., "--secret", envvar="AISTM7_WEBHOOK_ENDPOINT_SECRET", help="The endpoint's secret (whsec_...)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8799, "--port", help="Port to listen on."),
) -> None:
    """Receive the gateway's webhooks (register http://HOST:PORT/ as an
    endpoint): print each delivery whose signature checks out as one JSON
    line and answer 200; answer 400 to anything else. For trying
    integrations locally, until Ctrl-C."""
    from aiohttp import web

    from keeper.sdk import verify_webhook

    async def receive(request: web.Request) -> web.Response:
        try:
            event = verify_webhook(secret, await request.read(), request.headers.get("X-Signature"))
        except ValueError as exc:
            typer.echo(f"refused a delivery: {exc}", err=True)
            return web.json_response({"error": str(exc)}, status=400)
        typer.echo(event.model_dump_json())
        return web.json_response({"received": event.id})

    app = web.Application(client_max_size=1 << 20)
    app.router.add_post("/{tail:.*}", receive)
    typer.echo(f"listening for webhooks on http://{host}:{port}/", err=True)
    web.run_app(app, host=host, port=port, print=None)
