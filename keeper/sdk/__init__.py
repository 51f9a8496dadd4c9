"""A typed client of the merchant gateway's REST v1, sync (`Gateway`) and
async (`AsyncGateway`), with the event stream (resuming after the last
event seen) and webhook signature checks. Responses are the gateway's own
pydantic models (`keeper.gateway.models`), so they match its OpenAPI document.

    from keeper.sdk import Gateway
    with Gateway("http://127.0.0.1:8790", "agw_...") as gateway:
        if gateway.access(wallet).has_access:
            charge = gateway.charge(wallet, "search", request_id="order-1")
"""

from keeper.sdk.calls import GatewayError, PaymentFailed
from keeper.sdk.client import AsyncGateway, Gateway
from keeper.sdk.webhooks import verify_webhook

__all__ = ["AsyncGateway", "Gateway", "GatewayError", "PaymentFailed", "verify_webhook"]
