"""The gateway's one refusal: an HTTP status, a stable code, a message for
people, the request field at fault and, for limits, when to retry."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after
