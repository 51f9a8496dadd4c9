"""The shell scripts' own rules: checkouts sharing a target directory take
turns building and running from it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT


def _hold_lock(target: Path, seconds: float) -> subprocess.Popen[str]:
    script = f'source "{ROOT}/scripts/lib.sh"; lock_target_dir; echo locked; sleep {seconds}'
    return subprocess.Popen(
        ["bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", "HOME": str(target), "CARGO_TARGET_DIR": str(target)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_checkout_waits_for_the_target_directory_and_says_so(tmp_path: Path) -> None:
    first = _hold_lock(tmp_path, 2)
    assert first.stdout is not None and first.stdout.readline() == "locked\n"
    started = time.monotonic()
    second = _hold_lock(tmp_path, 0)
    out, err = second.communicate(timeout=30)
    first.wait(timeout=30)

    assert out == "locked\n"
    assert "waiting for another checkout" in err
    assert time.monotonic() - started >= 1.5
    assert first.returncode == 0 and second.returncode == 0
