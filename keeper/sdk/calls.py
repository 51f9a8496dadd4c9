"""Every v1 call as data (method, path, query, body, how to read the
answer), so the sync and async clients share one definition of the API;
and the errors a call raises."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter

from keeper.gateway import models

T = TypeVar("T")
RETRIED = frozenset({429, 502, 503, 504})


class GatewayError(Exception):
    """A refusal: the HTTP status and the gateway's stable error code."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after


class PaymentFailed(GatewayError):
    """The program refused the charge (or the wallet cannot pay): `charge`
    is the charge as recorded when it was sent."""

    def __init__(self, status: int, code: str, message: str, charge: models.Charge | None) -> None:
        super().__init__(status, code, message)
        self.charge = charge


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[Any], T]
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    retry_on: frozenset[str] = frozenset()
    """Error codes besides 429/503 worth retrying (a charge in progress)."""
    idempotent: bool = True
    """Safe to send again after a dropped connection or a 503."""


def _model(cls: type[T]) -> Callable[[Any], T]:
    adapter = TypeAdapter(cls)
    return adapter.validate_python


def _query(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


def access(wallet: str) -> Call[models.Access]:
    return Call("GET", f"/v1/access/{_segment(wallet)}", _model(models.Access))


def requirement() -> Call[models.Requirement]:
    return Call("GET", "/v1/requirement", _model(models.Requirement))


def fees() -> Call[models.Fees]:
    return Call("GET", "/v1/fees", _model(models.Fees))


def buy_orders(status: str | None, starting_after: int | None, limit: int) -> Call[models.Page[models.BuyOrder]]:
    return Call("GET", "/v1/buy-orders", _model(models.Page[models.BuyOrder]), _query(status=status, starting_after=starting_after, limit=limit))


def revenue_summary(starting_after: int | None, limit: int) -> Call[models.RevenueSummary]:
    return Call("GET", "/v1/revenue/summary", _model(models.RevenueSummary), _query(starting_after=starting_after, limit=limit))


def charge(wallet: str, service: str, request_id: str, token_account: str | None) -> Call[models.Charge]:
    body = {"wallet": wallet, "service": service, "request_id": request_id, **_query(token_account=token_account)}
    # Safe to repeat: the gateway charges a request id once and replays its result.
    return Call("POST", "/v1/charges", _model(models.Charge), body=body, retry_on=frozenset({"charge_in_progress", "charge_not_sent"}))


def get_charge(request_id: str) -> Call[models.Charge]:
    return Call("GET", f"/v1/charges/{_segment(request_id)}", _model(models.Charge))


def charges(starting_after: int | None, limit: int) -> Call[models.Page[models.Charge]]:
    return Call("GET", "/v1/charges", _model(models.Page[models.Charge]), _query(starting_after=starting_after, limit=limit))


def events(starting_after: int | None, types: Sequence[str] | None, limit: int) -> Call[models.Page[models.Event]]:
    joined = None if not types else ",".join(types)
    return Call("GET", "/v1/events", _model(models.Page[models.Event]), _query(starting_after=starting_after, types=joined, limit=limit))


def create_webhook(url: str, event_types: Sequence[str]) -> Call[models.NewWebhook]:
    return Call("POST", "/v1/webhooks", _model(models.NewWebhook), body={"url": url, "events": list(event_types)}, idempotent=False)


def webhooks() -> Call[list[models.Webhook]]:
    return Call("GET", "/v1/webhooks", _model(list[models.Webhook]))


def delete_webhook(endpoint_id: int) -> Call[models.Webhook]:
    return Call("DELETE", f"/v1/webhooks/{_segment(endpoint_id)}", _model(models.Webhook))


def deliveries(endpoint_id: int, starting_after: int | None, limit: int) -> Call[models.Page[models.Delivery]]:
    params = _query(starting_after=starting_after, limit=limit)
    return Call("GET", f"/v1/webhooks/{_segment(endpoint_id)}/deliveries", _model(models.Page[models.Delivery]), params)


def replay(endpoint_id: int, delivery_id: int) -> Call[models.Replayed]:
    path = f"/v1/webhooks/{_segment(endpoint_id)}/deliveries/{_segment(delivery_id)}/replay"
    return Call("POST", path, _model(models.Replayed), idempotent=False)


def health() -> Call[dict[str, Any]]:
    return Call("GET", "/v1/health", _model(dict[str, Any]))


def payload(content: bytes) -> Any:
    """A response's JSON; None when it is not JSON (a proxy's error page)."""
    try:
        return json.loads(content)
    except ValueError:
        return None


def outcome(call: Call[T], status: int, headers: dict[str, str], payload: Any) -> T:
    """The answer of `call`, or the GatewayError it is."""
    if 200 <= status < 300 or (call.path == "/v1/health" and status == 503):
        return call.read(payload)
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        raise GatewayError(status, "unexpected_response", f"{call.method} {call.path} answered {status} without an error object")
    retry = headers.get("retry-after")
    code, message = str(error.get("code")), str(error.get("message"))
    if status == 402:
        charged = payload.get("charge")
        raise PaymentFailed(status, code, message, None if charged is None else models.Charge.model_validate(charged))
    raise GatewayError(status, code, message, error.get("param"), float(retry) if retry and retry.isdigit() else None)


def retryable(call: Call[Any], error: GatewayError) -> bool:
    """429 always (refused before anything happened); 503 and the call's own
    codes when the call is safe to repeat."""
    return error.status == 429 or (call.idempotent and (error.status in RETRIED or error.code in call.retry_on))
