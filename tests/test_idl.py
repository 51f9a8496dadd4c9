"""The IDL the keeper loads must be the one the program source produces."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT


def test_committed_idl_matches_a_fresh_build() -> None:
    check = subprocess.run(
        ["cargo", "run", "-q", "--locked", "-p", "aistm7-idl", "--", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )

    assert check.returncode == 0, check.stderr[-4000:]
