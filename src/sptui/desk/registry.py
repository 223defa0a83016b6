"""The registry's contract rules: which variants and terms a registry row may name under the policy, and when a
machine's contract ends (第1章 4)."""
from __future__ import annotations

import datetime as dt

from sptui.clock.dates import add_months

# how a period of whole years from 29 February ends in a year without one: on the 28th (the shipped policy's
# date-rounding says the same for its service period)
PERIOD_ROUNDING = "clamp"


def sold_terms(policy) -> dict[str, tuple[int, ...] | None]:
    """The variants a registry row may name under this policy, each with the terms it is sold for (None: any)."""
    return {name: tuple(v.years) if v.years else None for name, v in policy.variants.items()}


def contract_end(machine: dict) -> dt.date:
    """The last day a machine's pack covers: N years from the machine's purchase date, or an earlier agreed end
    (第1章 4). `machine` has purchased_on, years and agreed_end_on. A period that would end past the last
    representable day (a date typed 9999) never ends: date.max."""
    try:
        end = add_months(machine["purchased_on"], 12 * machine["years"], PERIOD_ROUNDING) - dt.timedelta(days=1)
    except (ValueError, OverflowError):
        end = dt.date.max
    return min(end, machine["agreed_end_on"]) if machine["agreed_end_on"] else end
