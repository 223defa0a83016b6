"""The one import for plugin authors: everything a sptui plugin registers, reads or returns.

::

    from sptui.plugins.api import BlockKind, BlockSchema, EntrySpec, Evaluator, Function, hookimpl

- `hookimpl` marks a plugin's hook functions (the hooks: `HOOKS`, documented in docs/plugins.md).
- What a hook registers: `BlockKind` (with `BlockSchema` and `EntrySpec`), `Function`, `Evaluator`,
  `VariantPack`, `AlarmSource` (whose `open` yields `IncomingMail`s).
- The standard entries of a block kind: `CITE` (`cite 第3章 2.2 (4)`, required) and `NOTE`.
- What an evaluator writes: `Reason`s into a `DecisionContext` (`ctx.add(reason)`), the verdicts `VERDICTS`.
- What a block's compile reports with: `ctx.error(code, message, span, hint)`, `did_you_mean(word, names)`.
- Values and time: `Money`, `Duration`, `TimeOfDay`, `Window`, `WeekdaySet`, `WEEKDAYS`; `TOKYO`, `now()`,
  `add_months`; Japan's holidays `japan_holiday(day)`, `japan_holiday_name(day)`.
- Mail files for an alarm source: `read_mail(path)` (a `MailFile`: its bytes, or why it was skipped) and
  `received_at(mail, now())` (when it arrived, checked against the clock).
- Errors: `CaseError` (a case a block refuses: `CaseError(field, message)`), `SptuiError` (the root of all).
- A manager of your own (tests, a host program): `PluginManager(entry_points=False, extra=(my_plugin,))`.

Tests of a plugin use `sptui.testing` (a pytest plugin: `sptui_policy_with`, `sptui_case`, `sptui_store`).
"""
from __future__ import annotations

from sptui.clock.dates import add_months
from sptui.clock.hours import japan_holiday, japan_holiday_name
from sptui.errors import CaseError, SptuiError
from sptui.evaluators.common import CITE, NOTE
from sptui.plugins.mailfiles import MailFile, read_mail, received_at
from sptui.model.case import VERDICTS
from sptui.model.decision import Reason
from sptui.model.values import WEEKDAYS, Duration, Money, TimeOfDay, WeekdaySet, Window
from sptui.plugins.manager import HOOKS, PluginManager
from sptui.plugins.sources import AlarmSource, IncomingMail
from sptui.policy.decide import DecisionContext
from sptui.policy.diagnostics import did_you_mean
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, Function, VariantPack, hookimpl
from sptui.tz import TOKYO, now

__all__ = ["hookimpl", "HOOKS", "BlockKind", "BlockSchema", "EntrySpec", "Evaluator", "Function", "VariantPack",
           "AlarmSource", "IncomingMail", "CITE", "NOTE", "Reason", "DecisionContext", "VERDICTS", "did_you_mean",
           "Money", "Duration", "TimeOfDay", "Window", "WeekdaySet", "WEEKDAYS", "TOKYO", "now", "add_months",
           "japan_holiday", "japan_holiday_name", "CaseError", "SptuiError", "PluginManager", "MailFile", "read_mail",
           "received_at"]
