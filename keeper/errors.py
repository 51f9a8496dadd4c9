"""Program failures with the name the program gave them."""

from __future__ import annotations

from anchorpy.error import _LangErrorCode, extract_code_and_logs
from solana.rpc.core import RPCException
from solders.pubkey import Pubkey

from keeper.idl import error_names


class ProgramFailure(Exception):
    """A transaction failed in one of our programs with a known error."""

    def __init__(self, code: int, name: str, logs: list[str]) -> None:
        super().__init__(f"{name} ({code})")
        self.code = code
        self.name = name
        self.logs = logs


def error_name(code: int, program: str) -> str | None:
    """The program's own error name, else Anchor's framework error name."""
    names = error_names(program)
    if code in names:
        return names[code]
    try:
        return _LangErrorCode(code).name
    except ValueError:
        return None


def translate(exc: RPCException, program_id: Pubkey, program: str) -> ProgramFailure | None:
    """Turn a preflight failure into a `ProgramFailure`, when it came from `program_id`."""
    extracted = extract_code_and_logs(exc.args[0], program_id)
    if extracted is None:
        return None
    code, logs = extracted
    name = error_name(code, program)
    return None if name is None else ProgramFailure(code, name, logs)
