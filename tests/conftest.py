from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POLICIES = ROOT / "policies"


@pytest.fixture(scope="session")
def policy():
    import sptui

    return sptui.load_policy(POLICIES)


@pytest.fixture(scope="session")
def sptui_bin() -> str:
    exe = Path(sys.executable).parent / "sptui"
    if exe.exists():
        return str(exe)
    found = shutil.which("sptui")
    assert found, "the sptui command is not installed (run scripts/setup)"
    return found


@pytest.fixture
def run(sptui_bin):
    """Run the real sptui command; returns the CompletedProcess."""
    import subprocess

    def _run(*args, input=None, cwd=ROOT, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([sptui_bin, *map(str, args)], input=input, capture_output=True, text=True, cwd=cwd,
                              env=e, timeout=120)
    return _run


@pytest.fixture
def base_case() -> dict:
    return {
        "at": "2026-11-27T17:00:00+09:00", "support": "hw", "repair_needed": True,
        "pack": {"variant": "weekday-9h", "years": 5, "purchased_on": "2024-04-02"},
        "registration": {"status": "accepted", "submitted_on": "2024-04-10", "completed_on": "2024-04-20",
                         "agreed_end_on": None},
        "device": {"purchased_on": "2024-04-01", "manufacture_ended_on": None, "country": "JP", "config_info": True},
        "component": {"kind": "body", "category": None, "connection": None},
        "cause": None, "failure": None, "work": None, "alarm": None,
    }
