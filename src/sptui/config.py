"""Where sptui finds what it is not told: the policy (the desk's database: sptui.store.db.default_url)."""
from __future__ import annotations

import os
from pathlib import Path


def shipped_policy_dir() -> str:
    """The policy sptui ships (the terms of domain.md): package data, so a wheel install has it too."""
    return str(Path(__file__).resolve().parent / "policies")


def default_policy() -> str:
    """`$SPTUI_POLICY`, else ./policies, else the policy sptui ships (package data)."""
    env = os.environ.get("SPTUI_POLICY")
    if env:
        return env
    if Path("policies").is_dir():
        return "policies"
    return shipped_policy_dir()
