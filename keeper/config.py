"""Defaults of the keeper settings; flags and AISTM7_* environment variables override them."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_RPC_URL = "http://127.0.0.1:8899"
DEFAULT_KEYPAIR = Path.home() / ".config" / "solana" / "id.json"
DEFAULT_JOURNAL = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "aistm7" / "journal.sqlite3"
DEFAULT_GATEWAY_DATABASE = DEFAULT_JOURNAL.parent / "gateway.sqlite3"
