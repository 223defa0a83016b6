"""sptui: NEC SupportPack terms as checked policy, and a desk that decides by them.

Public API (each name is imported on first use: `import sptui` loads nothing else)::

    policy = sptui.load_policy("policies")      # a Policy; PolicyError with every diagnostic
    sptui.shipped_policy_dir()                  # the policy sptui ships
    decision = policy.decide(case_dict)         # a Decision; CaseError naming the bad field
    decision.verdict, decision.reasons          # Reason: rule, outcome, cite, message(lang)
    decision.to_json()                          # as `sptui eval` prints it (../shared/contract/eval.md)
    print(sptui.explain(policy, case_dict))     # the trace, and what would change the outcome

Exceptions: every one sptui raises on purpose derives from SptuiError (sptui.errors draws the tree); CaseError
and LiteralError are also ValueErrors.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "Policy": "sptui.policy.compile",
    "Decision": "sptui.model.decision",
    "Reason": "sptui.model.decision",
    "CaseError": "sptui.errors",
    "PolicyError": "sptui.errors",
    "SptuiError": "sptui.errors",
}


def shipped_policy_dir() -> str:
    """The policy sptui ships (the terms of domain.md): package data, so a wheel install has it too."""
    from sptui.config import shipped_policy_dir as _shipped

    return _shipped()


def load_policy(path="policies", *, plugins=None):
    """Load, check and compile a policy (a folder of .sptp files, or files) with `plugins` (a PluginManager; by
    default the process's own: the built-ins and the installed plugins). Raises PolicyError with every diagnostic.

    A plugin whose own policy files have errors is left out and reported in the manager's failures; the rest of
    the policy loads (`sptui check` shows every error, the plugins' included)."""
    from sptui.plugins.manager import default_manager
    from sptui.policy.compile import load_policy as _load

    return _load(path, plugins=plugins or default_manager())


def explain(policy, case: Any, *, lang: str = "en") -> str:
    """The decision on `case` (a JSON-like dict, or a Case) as a readable trace: each rule, its outcome and clause,
    then what would change the outcome (each line a real decision on a changed case). CaseError if the case is bad."""
    from sptui.explanation import explain as _explain

    return _explain(policy, case, lang=lang)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sptui' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)


__all__ = ["load_policy", "shipped_policy_dir", "explain", "Policy", "Decision", "Reason", "CaseError",
           "PolicyError", "SptuiError", "__version__"]
