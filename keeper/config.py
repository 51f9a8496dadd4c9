"""Keeper settings: flags, then environment (AISTM7_*), then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RPC_URL = "http://127.0.0.1:8899"
DEFAULT_KEYPAIR = Path.home() / ".config" / "solana" / "id.json"
DEFAULT_JOURNAL = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "aistm7" / "journal.sqlite3"


@dataclass(frozen=True)
class Settings:
    rpc_url: str
    keypair_path: Path

    @classmethod
    def from_env(cls, rpc_url: str | None = None, keypair_path: Path | None = None) -> Settings:
        return cls(
            rpc_url=rpc_url or os.environ.get("AISTM7_RPC_URL", DEFAULT_RPC_URL),
            keypair_path=keypair_path or Path(os.environ.get("AISTM7_KEYPAIR", str(DEFAULT_KEYPAIR))),
        )
