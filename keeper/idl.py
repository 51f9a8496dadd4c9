"""The committed IDLs of the workspace programs (written by `cargo run -p aistm7-idl`)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from anchorpy.idl_adapter import Idl


@cache
def idl_json(program: str) -> str:
    """The IDL text of `program` ("aistm7" or "mock_pyth")."""
    return resources.files("keeper").joinpath("idl", f"{program}.json").read_text()


@cache
def load_idl(program: str) -> Idl:
    return Idl.from_json(idl_json(program))


@cache
def error_names(program: str) -> dict[int, str]:
    """Custom error code -> variant name, as the program declares them."""
    return {error["code"]: error["name"] for error in json.loads(idl_json(program)).get("errors", [])}


@cache
def struct_fields(program: str, type_name: str) -> tuple[str, ...]:
    """The field names of the struct `type_name` the program declares."""
    types = json.loads(idl_json(program)).get("types", [])
    found = next(t for t in types if t["name"] == type_name)
    return tuple(field["name"] for field in found["type"]["fields"])
