"""Keeper jobs: each `run` returns a `JobResult`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobResult:
    runs: int = 1
    errors: int = 0
    txs: int = 0
