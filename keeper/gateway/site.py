"""The dashboard: static files (`keeper/gateway/site/`) served at `/`.

Plain HTML, CSS and JavaScript modules, no framework and no build step:
the pages only call the gateway's own /v1 API with the key a person signs
in with, so there is nothing to bundle, and nothing is fetched from
anywhere else (the Content-Security-Policy below allows only this origin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

ROOT = Path(__file__).parent / "site"
HEADERS = {
    # Scripts, styles and connections to this origin only; no inline
    # script, no framing: an injected string can neither run nor exfiltrate the key.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class Site(StaticFiles):
    """StaticFiles with the dashboard's security headers on every answer."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(HEADERS)
        return response


def site() -> Site:
    return Site(directory=ROOT, html=True)
