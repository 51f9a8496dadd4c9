"""Price paths for the local feeds: a seeded random walk, or a replay of a
CSV file. Pure: a path only says what the price is at a given second."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class PricePath(Protocol):
    def at(self, seconds: float) -> tuple[float, float]:
        """(token USD, USD/ZAR) `seconds` after the start."""
        ...


@dataclass
class RandomWalk:
    """Geometric random walk stepped every `step_secs`: `volatility` is the
    standard deviation of one step's log-return, and a jump of
    `jump_size` (either way, scaled by 1..2) comes on average every
    `mean_jump_secs`, over the requirement's 1% threshold."""

    seed: int = 7
    token_usd: float = 0.01
    usd_zar: float = 18.5
    step_secs: float = 2.0
    volatility: float = 0.002
    fx_volatility: float = 0.0005
    mean_jump_secs: float = 30.0
    jump_size: float = 0.015
    _rng: random.Random = field(init=False, repr=False)
    _steps: list[tuple[float, float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._steps = [(self.token_usd, self.usd_zar)]

    def at(self, seconds: float) -> tuple[float, float]:
        step = max(0, int(seconds // self.step_secs))
        while len(self._steps) <= step:
            token, fx = self._steps[-1]
            move = self._rng.gauss(0.0, self.volatility)
            if self._rng.random() < self.step_secs / self.mean_jump_secs:
                move += self._rng.choice((-1, 1)) * self.jump_size * (1 + self._rng.random())
            self._steps.append((token * math.exp(move), fx * math.exp(self._rng.gauss(0.0, self.fx_volatility))))
        return self._steps[step]


@dataclass(frozen=True)
class Replay:
    """A CSV with a header `seconds,token_usd,usd_zar`: each row holds from
    its second until the next row's; the last row holds on."""

    rows: list[tuple[float, float, float]]

    @classmethod
    def load(cls, path: Path) -> Replay:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"seconds", "token_usd", "usd_zar"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: the header must name seconds, token_usd, usd_zar (missing {sorted(missing)})")
            try:
                rows = sorted((float(r["seconds"]), float(r["token_usd"]), float(r["usd_zar"])) for r in reader)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}: line {reader.line_num}: {exc}") from exc
        if not rows or any(not (token > 0 and fx > 0 and math.isfinite(token * fx)) for _, token, fx in rows):
            raise ValueError(f"{path}: at least one row, every price a positive number")
        return cls(rows)

    def at(self, seconds: float) -> tuple[float, float]:
        current = self.rows[0]
        for row in self.rows:
            if row[0] > seconds:
                break
            current = row
        return current[1], current[2]
