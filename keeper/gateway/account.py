"""A merchant's keys through the API: who a key is, and (admin scope) the
merchant's API keys listed, created and revoked."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from fastapi import FastAPI

from keeper.gateway import keys, models
from keeper.gateway.errors import ApiError
from keeper.gateway.store import KeyRow

if TYPE_CHECKING:
    from keeper.gateway.app import Gateway

MAX_KEYS = 20
"""Live keys a merchant may hold (rate limits are per key, so this bounds a merchant's total rate too)."""
MAX_KEYS_MADE = 1_000
"""Keys, revoked ones included, a merchant may make through the API (the operator's CLI may make more)."""


def add_routes(
    app: FastAPI, gateway: Gateway, live: Any, admin: Any, errors: dict[int | str, dict[str, Any]],
    rpc: Callable[[Awaitable[Any]], Awaitable[Any]],
) -> None:
    @app.get("/v1/me", response_model=models.Me, responses=errors, tags=["keys"])
    async def me(key: KeyRow = live) -> dict[str, Any]:
        """The key this request was made with: its merchant and scopes (what
        a dashboard may show), and the token's decimals for showing amounts."""
        snap = await rpc(gateway.chain.state())
        return {
            "key_id": key.key_id, "merchant": key.merchant, "label": key.label, "scopes": sorted(key.scopes),
            "token_decimals": snap.config.mint_decimals,
        }

    @app.get("/v1/keys", response_model=list[models.ApiKey], responses=errors, tags=["keys"])
    async def list_keys(key: KeyRow = admin) -> list[dict[str, Any]]:
        """This merchant's keys, live and revoked, oldest first (never a secret)."""
        return [keys.as_dict(row) for row in await asyncio.to_thread(gateway.store.keys, key.merchant)]

    @app.post("/v1/keys", response_model=models.NewApiKey, status_code=201, responses=errors, tags=["keys"])
    async def create_key(body: models.ApiKeyRequest, key: KeyRow = admin) -> dict[str, Any]:
        """A new key for this merchant; its secret is in this answer only."""
        made = await asyncio.to_thread(gateway.store.keys, key.merchant)
        if sum(row.revoked_at is None for row in made) >= MAX_KEYS:
            raise ApiError(409, "too_many_keys", f"a merchant has at most {MAX_KEYS} live keys: revoke one first")
        if len(made) >= MAX_KEYS_MADE:
            raise ApiError(409, "too_many_keys", f"this merchant made {MAX_KEYS_MADE} keys: the operator makes more")
        # A key cannot make a faster one: the operator's limits hold for every key a merchant makes.
        rate, burst = body.rate_per_sec or key.rate_per_sec, body.burst or key.burst
        if rate > key.rate_per_sec or burst > key.burst:
            raise ApiError(400, "invalid_request", f"at most this key's own rate ({key.rate_per_sec}/s, burst {key.burst})", "rate_per_sec")
        new = await asyncio.to_thread(keys.create, gateway.store, key.merchant, set(body.scopes), body.label, rate, burst)
        return {**keys.as_dict(new.row), "api_key": new.token}

    @app.delete("/v1/keys/{key_id}", response_model=models.ApiKey, responses=errors, tags=["keys"])
    async def revoke_key(key_id: str, key: KeyRow = admin) -> dict[str, Any]:
        """Revoke one of this merchant's keys (also the one making the
        request): every gateway process refuses it, and closes its streams,
        within a few seconds."""
        if not keys.KEY_ID.match(key_id) or not await asyncio.to_thread(gateway.store.revoke_key, key_id, key.merchant):
            raise ApiError(404, "key_not_found", f"no live key {key_id[:32]!r} of this merchant", "key_id")
        row = await asyncio.to_thread(gateway.store.key, key_id)
        assert row is not None
        gateway.keyring.forget(key_id)
        return keys.as_dict(row)
