"""The cranks the keeper turns. Each first asks the program, by simulation,
whether the call would do anything: a no-op (price moved too little, too soon,
nothing to allocate, a record still within its retention) sends no
transaction and costs nothing."""

from __future__ import annotations

from dataclasses import dataclass

from loguru import logger
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from keeper.client import Aistm7Client
from keeper.jobs import JobResult
from keeper.state import NO_FEED, RECORD_RETENTION_SECS, BuyOrder

# Program answers that mean "nothing to do now", not a failure.
REFRESH_NOOPS = {"BelowUpdateThreshold", "UpdateTooSoon"}
EXECUTE_NOOPS = {"AllocationBelowMinimum"}
CLOSE_NOOPS = {"RetentionNotElapsed", "RecordNotSettled"}


@dataclass(frozen=True)
class PriceAccounts:
    token: Pubkey
    backup: Pubkey | None = None
    usd_zar: Pubkey | None = None


async def _crank(client: Aistm7Client, job: str, ix: Instruction, noops: set[str]) -> JobResult:
    log = logger.bind(job=job)
    refusal = await client.simulate([ix])
    if refusal is not None and refusal.name in noops:
        log.debug("nothing to do: {}", refusal.name)
        return JobResult()
    if refusal is not None:
        raise refusal
    result = await client.send([ix])
    log.info("sent {}", result.signature)
    return JobResult(txs=1)


async def refresh_requirement(client: Aistm7Client, prices: PriceAccounts) -> JobResult:
    """With a backup feed in the config the program requires its price
    account: the crank passes it, and refuses to run without it."""
    found = await client.fetch_config()
    if found is None:
        raise ValueError("the program is not initialized")
    backup = None
    if found.data.oracle_params.backup_feed_id != NO_FEED:
        if prices.backup is None:
            raise ValueError("a backup feed is configured: the refresh crank needs its price account (--backup-price)")
        backup = prices.backup
    ix = client.refresh_requirement_ix(prices.token, backup)
    return await _crank(client, "refresh_requirement", ix, REFRESH_NOOPS)


async def execute_buy_order(client: Aistm7Client, prices: PriceAccounts) -> JobResult:
    if prices.usd_zar is None:
        raise ValueError("execute_buy_order needs the USD/ZAR price account")
    found = await client.fetch_buyback()
    if found is None:
        raise ValueError("the buy-order treasury is not initialized")
    b = found.data
    ix = client.execute_buy_order_ix(client.payer.pubkey(), b.next_order_id, b.quote_mint, prices.token, prices.usd_zar)
    return await _crank(client, "execute_buy_order", ix, EXECUTE_NOOPS)


async def close_expired_orders(client: Aistm7Client) -> JobResult:
    """Return the budget of every pending order past its expiry."""
    found = await client.fetch_buyback()
    if found is None:
        return JobResult()
    now = await client.cluster_time()
    txs = 0
    for _, raw in await client.fetch_all("BuyOrder"):
        if type(raw.status).__name__ == "Pending" and raw.expires_at <= now:
            await client.send([client.close_expired_buy_order_ix(raw.id, found.data.quote_mint)])
            logger.bind(job="close_expired_orders").info("closed expired order {}", raw.id)
            txs += 1
    return JobResult(txs=txs)


async def close_settled_orders(client: Aistm7Client) -> JobResult:
    """Close the keeper's own settled orders (and their escrows) once the
    retention period passed: the rent comes back to the keeper. Orders another
    keeper opened are left to it."""
    found = await client.fetch_buyback()
    if found is None:
        return JobResult()
    keeper = client.payer.pubkey()
    now = await client.cluster_time()
    orders = [BuyOrder.decode(raw) for _, raw in await client.fetch_all("BuyOrder")]
    due = [
        order
        for order in orders
        if order.payer == keeper and order.status != "Pending" and now >= order.closed_at + RECORD_RETENTION_SECS
    ]
    txs = 0
    for order in due:
        ix = client.close_buy_order_ix(order.id, found.data.quote_mint, keeper)
        txs += (await _crank(client, "close_settled_orders", ix, CLOSE_NOOPS)).txs
    return JobResult(txs=txs)
