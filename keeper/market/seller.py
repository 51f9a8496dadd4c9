"""The seller: fills open buy-orders at the current oracle price with the
tokens it holds, as a market maker would, and is paid from the order's
escrow (the program burns what it buys)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loguru import logger
from solders.pubkey import Pubkey

from keeper.client import Aistm7Client
from keeper.errors import ProgramFailure
from keeper.market.ticker import every
from keeper.state import BuyOrder

SKIPPED = frozenset({"PriceAboveLimit", "FillTooSmall", "OrderExpired", "OrderNotPending"})
"""Refusals that only mean: not this order, not now."""


@dataclass
class Seller:
    client: Aistm7Client
    """Signs and pays as the seller."""
    mint: Pubkey
    decimals: int
    quote_mint: Pubkey
    token_account: Pubkey
    quote_account: Pubkey
    token_price: Pubkey
    usd_zar_price: Pubkey
    interval_secs: float = 5.0

    async def _fill(self, order: BuyOrder, amount: int) -> int:
        ix = self.client.fill_buy_order_ix(
            self.client.payer.pubkey(), order.id, self.mint, self.quote_mint, self.token_account,
            self.quote_account, self.token_price, self.usd_zar_price, amount,
        )
        await self.client.send([ix])
        return amount

    async def fill_open(self) -> int:
        """Fill every pending order as far as its budget goes; tokens sold."""
        log = logger.bind(job="seller")
        sold = 0
        for _, raw in await self.client.fetch_all("BuyOrder"):
            order = BuyOrder.decode(raw)
            remaining = order.quote_budget - order.quote_spent
            # The last 1% is dust a fill at the limit price cannot reach exactly: left to expire.
            if order.status != "Pending" or remaining * 100 <= order.quote_budget or order.limit_price <= 0:
                continue
            # At most the limit price a token, so the cost stays within the budget.
            amount = remaining * 10**self.decimals // order.limit_price
            for attempt in (amount, amount * 9 // 10):
                if attempt <= 0:
                    break
                try:
                    sold += await self._fill(order, attempt)
                    log.info("filled order {} with {} base units", order.id, attempt)
                    break
                except ProgramFailure as failure:
                    if failure.name in SKIPPED:
                        log.debug("order {} not filled: {}", order.id, failure.name)
                        break
                    if failure.name != "FillExceedsBudget":
                        raise
        return sold

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.interval_secs, stop, "seller", self.fill_open)
