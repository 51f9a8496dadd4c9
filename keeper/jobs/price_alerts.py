"""Warn when the token price or the access requirement moves a lot: a log
line at WARNING and, when configured, a JSON POST to an alert webhook."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.pubkey import Pubkey

from keeper.client import Aistm7Client
from keeper.jobs import JobResult


@dataclass
class PriceAlerts:
    price_account: Pubkey
    price_move_bps: int = 500
    requirement_move_bps: int = 1_000
    webhook_url: str | None = None
    last: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Last observed (value, expo) per watched quantity."""

    async def _price(self, client: Aistm7Client) -> tuple[int, int] | None:
        account = (await client.connection.get_account_info(self.price_account, Confirmed)).value
        if account is None:
            return None
        update = client.mock_pyth.coder.accounts.decode(bytes(account.data))
        return update.price_message.price, update.price_message.exponent

    def _moved(self, name: str, value: int, expo: int, bps: int) -> int | None:
        """The move in bps since the last alert (or first sight) when it reaches `bps`."""
        previous = self.last.get(name)
        if previous is None or previous[1] != expo or previous[0] <= 0:
            self.last[name] = (value, expo)
            return None
        moved = abs(value - previous[0]) * 10_000 // previous[0]
        if moved < bps:
            return None
        self.last[name] = (value, expo)
        return moved

    async def run(self, client: Aistm7Client) -> JobResult:
        log = logger.bind(job="price_alerts")
        alerts = []
        price = await self._price(client)
        if price is not None:
            moved = self._moved("price", price[0], price[1], self.price_move_bps)
            if moved is not None:
                alerts.append({"kind": "price", "price": price[0], "expo": price[1], "moved_bps": moved})
        config = await client.fetch_config()
        if config is not None and config.data.requirement.required:
            required = config.data.requirement.required
            moved = self._moved("requirement", required, 0, self.requirement_move_bps)
            if moved is not None:
                alerts.append({"kind": "requirement", "required": required, "moved_bps": moved})
        for alert in alerts:
            log.warning("alert: {}", alert)
        if alerts and self.webhook_url is not None:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.post(self.webhook_url, json={"alerts": alerts})
                response.raise_for_status()
        return JobResult()
