"""The price feeder: writes the token's and the USD/ZAR PriceUpdateV2
accounts through mock_pyth every `interval_secs`, as Pyth publishes them:
publish time from the cluster clock, a confidence interval and an EMA."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from loguru import logger
from solders.instruction import Instruction
from solders.keypair import Keypair

from keeper.client import Aistm7Client
from keeper.deploy import LOCALNET_FEED_ID, LOCALNET_USD_ZAR_FEED_ID
from keeper.market.prices import PricePath
from keeper.market.ticker import every

EXPO = -8
CONF_BPS = 10
"""Confidence as a share of the price: 0.1%, as liquid Pyth feeds publish."""
EMA_UPDATES = 30
"""The EMA's span in updates (Pyth's is about an hour of slots; shorter here)."""


@dataclass
class Feed:
    account: Keypair
    feed_id: bytes
    ema: float | None = None

    def update(self, client: Aistm7Client, price_usd: float, publish_time: int) -> Instruction:
        alpha = 2 / (EMA_UPDATES + 1)
        self.ema = price_usd if self.ema is None else self.ema + alpha * (price_usd - self.ema)
        price = max(1, round(price_usd * 10**-EXPO))
        ema = max(1, round(self.ema * 10**-EXPO))
        return client.write_price_ix(
            client.payer.pubkey(), self.account.pubkey(), self.feed_id, price, publish_time,
            conf=price * CONF_BPS // 10_000, expo=EXPO, ema_price=ema, ema_conf=ema * CONF_BPS // 10_000,
        )


@dataclass
class Feeder:
    client: Aistm7Client
    path: PricePath
    token: Feed
    usd_zar: Feed
    interval_secs: float = 2.0
    started: float = field(default_factory=time.monotonic)
    last: tuple[float, float] | None = None

    @classmethod
    def local(cls, client: Aistm7Client, path: PricePath, token: Keypair, usd_zar: Keypair, interval_secs: float) -> Feeder:
        return cls(client, path, Feed(token, LOCALNET_FEED_ID), Feed(usd_zar, LOCALNET_USD_ZAR_FEED_ID), interval_secs)

    async def write(self) -> tuple[float, float]:
        token_usd, usd_zar = self.path.at(time.monotonic() - self.started)
        now = await self.client.cluster_time()
        ixs = [self.token.update(self.client, token_usd, now), self.usd_zar.update(self.client, usd_zar, now)]
        await self.client.send(ixs, [self.token.account, self.usd_zar.account])
        self.last = (token_usd, usd_zar)
        logger.bind(job="feeder").debug("token ${:.6f}, USD/ZAR {:.4f}", token_usd, usd_zar)
        return self.last

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.interval_secs, stop, "feeder", self.write)
