"""Log setup: text for people, or one JSON object a line for collectors.

Untrusted values (references, provider fields) go into a log record both as
`bind`-ed data and in the message. In JSON logs the data is carried raw
(`record.extra`) and JSON-escaped; in the text log every control, format and
line-separator character of the message is written as an escape, so no
value can forge a log line. Tracebacks never show variable values (a
secret in a local variable would be logged)."""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

_ESCAPED = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def escape(text: str) -> str:
    """`text` with every control or format character as `\\xNN`/`\\uNNNN`."""
    if all(unicodedata.category(char) not in _ESCAPED for char in text):
        return text
    return "".join(
        char.encode("unicode_escape").decode("ascii") if unicodedata.category(char) in _ESCAPED else char
        for char in text
    )


def _escaped_message(record: Record) -> None:
    record["extra"]["text"] = escape(record["message"])


TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{extra[job]}</cyan> - <level>{extra[text]}</level>"
)


def configure(as_json: bool) -> None:
    """One sink on stderr: JSON records, or text with escaped messages; at
    AISTM7_LOG_LEVEL (default INFO)."""
    logger.remove()
    logger.configure(extra={"job": "-"}, patcher=_escaped_message)
    level = os.environ.get("AISTM7_LOG_LEVEL", "INFO").upper()
    # No variable values in tracebacks: they would print secrets.
    if as_json:
        logger.add(sys.stderr, level=level, serialize=True, backtrace=False, diagnose=False)
    else:
        logger.add(sys.stderr, level=level, format=TEXT_FORMAT, backtrace=False, diagnose=False)
