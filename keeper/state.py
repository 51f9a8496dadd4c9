"""Decoded program accounts, with the slot they were read at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from solders.pubkey import Pubkey

T = TypeVar("T")


@dataclass(frozen=True)
class DataAndSlot(Generic[T]):
    data: T
    slot: int


@dataclass(frozen=True)
class Authorities:
    admin: Pubkey
    guardian: Pubkey
    keeper: Pubkey
    fee_collector: Pubkey
    rewarder: Pubkey

    @classmethod
    def decode(cls, raw: Any) -> Authorities:
        return cls(raw.admin, raw.guardian, raw.keeper, raw.fee_collector, raw.rewarder)

    @classmethod
    def all(cls, key: Pubkey) -> Authorities:
        """Every role held by one key (local setups)."""
        return cls(key, key, key, key, key)


@dataclass(frozen=True)
class Config:
    version: int
    authorities: Authorities
    mint: Pubkey
    treasury_vault: Pubkey
    bump: int
    treasury_bump: int

    @classmethod
    def decode(cls, raw: Any) -> Config:
        return cls(
            version=raw.version,
            authorities=Authorities.decode(raw.authorities),
            mint=raw.mint,
            treasury_vault=raw.treasury_vault,
            bump=raw.bump,
            treasury_bump=raw.treasury_bump,
        )
