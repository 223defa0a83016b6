"""sptui: NEC SupportPack terms as checked policy, and a desk that decides by them.

Public API::

    policy = sptui.load_policy("policies")   # raises PolicyError with every diagnostic
    sptui.shipped_policy_dir()               # the policy sptui ships
    decision = policy.decide(case_dict)      # raises CaseError naming the bad field

Exceptions::

    ValueError
     ├── CaseError        bad case input (names the field)
     └── LiteralError     a literal that is not a value (inside the parser)
    Exception
     └── PolicyError      the policy has errors (.diagnostics, .sources)
"""
from sptui.model.case import CaseError
from sptui.model.decision import Decision, Reason

__version__ = "0.1.0"


def shipped_policy_dir() -> str:
    """The policy sptui ships (the terms of domain.md): package data, so a wheel install has it too."""
    from pathlib import Path

    return str(Path(__file__).resolve().parent / "policies")


def load_policy(path="policies", *, plugins=None):
    from sptui.policy.compile import load_policy as _load

    return _load(path, plugins=plugins)


def __getattr__(name):
    if name in ("Policy", "PolicyError"):
        from sptui.policy import compile as _c

        return getattr(_c, name)
    raise AttributeError(name)


__all__ = ["load_policy", "shipped_policy_dir", "Decision", "Reason", "CaseError", "Policy", "PolicyError", "__version__"]
