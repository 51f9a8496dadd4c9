"""One line of what happened, read from the chain: the price the feeder
last wrote, the requirement, revenue pushed (and what the simulator sold),
buy-orders opened and filled (orders not yet closed with tokens bought),
tokens burned."""

from __future__ import annotations

from decimal import Decimal

from keeper.client import Aistm7Client
from keeper.state import BuyOrder
from keeper.views import tokens


def _zar(cents: int) -> str:
    return f"R{Decimal(cents).scaleb(-2):,.2f}"


async def line(client: Aistm7Client, price: tuple[float, float] | None, sold_cents: int | None) -> str:
    config, buyback = await client.fetch_config(), await client.fetch_buyback()
    parts = []
    if price is not None:
        parts.append(f"price ${price[0]:.6f} (USD/ZAR {price[1]:.4f})")
    if config is not None:
        c = config.data
        required = c.requirement.required
        shown = "not priced yet" if not required else f"{tokens(required, c.mint_decimals)} tokens"
        parts.append(f"requirement {shown}")
    if buyback is not None:
        b, m = buyback.data, buyback.data.metrics
        sold = "" if sold_cents is None else f" (simulator sold {_zar(sold_cents)})"
        decimals = config.data.mint_decimals if config is not None else 0
        parts.append(f"revenue pushed {_zar(b.revenue.total)} in {b.last_batch_seq} batches{sold}")
        orders = [BuyOrder.decode(raw) for _, raw in await client.fetch_all("BuyOrder")]
        filled = sum(1 for order in orders if order.tokens_acquired > 0)
        parts.append(
            f"orders opened {m.orders_opened}, filled {filled}, completed {m.orders_completed}, "
            f"tokens bought {tokens(m.tokens_acquired, decimals)}, burned {tokens(m.tokens_burned, decimals)}"
        )
    return " | ".join(parts)
