"""sptui-longterm: the long-term pack (長期保守パック, 6 and 7 years; 第1章 4 ※).

The terms say spare parts are kept 5 years after the end of manufacture, and that past this no HW
maintenance is given, except in long-term packs of 6 or 7 years. This plugin adds those packs as two
variants, with the hours of the shipped ones:

- `longterm-weekday-9h` 長期保守パック 月～金 9時間対応
- `longterm-24x7` 長期保守パック 週7日間 24時間対応

Once installed, `sptui eval` accepts `"pack": {"variant": "longterm-weekday-9h", "years": 6, …}`, the
registry imports machines on these variants, and the desk shows them. Its rule `longterm-past-retention`
adds a reason when a long-term pack's machine is past the parts retention: maintenance goes on, and
the desk is told that parts may take longer.
"""
from __future__ import annotations

from pathlib import Path

from sptui.plugins.api import VariantPack, hookimpl

__version__ = "0.1.0"
POLICY = Path(__file__).resolve().parent / "longterm.sptp"
VARIANTS = ("longterm-weekday-9h", "longterm-24x7")


@hookimpl
def sptui_variants(register):
    register(VariantPack("longterm-weekday-9h", (str(POLICY),), years=(6, 7),
                         doc="長期保守パック 月～金 9時間対応: Mon–Fri 08:30–17:30, 6 or 7 years, past parts retention"))
    # the second variant is defined in the same file; naming the file once is enough for the policy,
    # and registering the variant keeps `sptui plugins -v` honest about what the plugin brings
    register(VariantPack("longterm-24x7", (), years=(6, 7),
                         doc="長期保守パック 週7日間 24時間対応: all day, every day, 6 or 7 years, past parts retention"))
