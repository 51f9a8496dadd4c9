"""Program state as plain rows and mappings for people: the CLI's and the
audit's tables, JSON and CSV all come from here."""

from __future__ import annotations

from decimal import Decimal

from solders.pubkey import Pubkey

from keeper.state import AccessLock, Config, ServiceFee


def tokens(units: int, decimals: int) -> str:
    """Base units as a decimal token amount, every digit kept."""
    return f"{Decimal(units).scaleb(-decimals).normalize():f}"


def requirement_dict(config: Config, now: int, slot: int) -> dict[str, object]:
    """The effective requirement, the price that set it and its age."""
    state = config.requirement
    decimals = config.mint_decimals
    effective = state.effective(now)
    override = state.emergency_override
    override_active = override is not None and now < override.expires_at
    return {
        "slot": slot,
        "cluster_time": now,
        "effective_units": effective,
        "effective_tokens": None if effective is None else tokens(effective, decimals),
        "set_by": "override" if override_active else ("price" if state.required else "nothing yet"),
        "computed_units": state.required,
        "price": state.price,
        "expo": state.expo,
        "price_usd": f"{Decimal(state.price).scaleb(state.expo):f}" if state.required else None,
        "source": state.source,
        "publish_time": state.publish_time,
        "price_age_secs": now - state.publish_time if state.required else None,
        "updated_at": state.updated_at,
        "breaker_tripped": state.breaker_tripped,
        "paused": config.paused,
        "override": None if override is None else {"units": override.amount, "expires_at": override.expires_at},
        "params": dict(vars(config.requirement_params)),
    }


def access_dict(config: Config, wallet: Pubkey, lock: AccessLock | None, now: int, slot: int) -> dict[str, object]:
    """A wallet's lock and whether `verify_access` passes for it at `now`:
    only `locked` counts, `unlocking` waits for `unlock_at`."""
    decimals = config.mint_decimals
    locked = 0 if lock is None else lock.locked
    unlocking = 0 if lock is None else lock.unlocking
    required = config.requirement.effective(now)
    unlock_at = lock.unlock_at if lock is not None and lock.unlocking else None
    return {
        "slot": slot,
        "cluster_time": now,
        "wallet": str(wallet),
        "locked_units": locked,
        "locked_tokens": tokens(locked, decimals),
        "unlocking_units": unlocking,
        "unlocking_tokens": tokens(unlocking, decimals),
        "unlock_at": unlock_at,
        "withdrawable_units": 0 if lock is None else lock.withdrawable(now),
        "required_units": required,
        "required_tokens": None if required is None else tokens(required, decimals),
        "paused": config.paused,
        "has_access": not config.paused and required is not None and locked >= required,
        "unlock_cooldown_secs": config.requirement_params.unlock_cooldown_secs,
    }


def fee_rows(services: list[ServiceFee], decimals: int, now: int) -> list[dict[str, object]]:
    """Every service: cost, window, whether it is payable at `now`, and its counters."""
    return [
        {
            "name": service.name,
            "cost_units": service.terms.cost,
            "cost_tokens": tokens(service.terms.cost, decimals),
            "active": service.terms.active,
            "payable_now": service.terms.active
            and service.terms.valid_from <= now
            and (service.terms.valid_to == 0 or now < service.terms.valid_to),
            "valid_from": service.terms.valid_from,
            "valid_to": service.terms.valid_to or None,
            "count": service.count,
            "total_units": service.total,
        }
        for service in services
    ]
