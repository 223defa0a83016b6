"""The core plugin: the block kinds every policy is made of (register, calendar, variant, table, rule), the core
DSL functions and the rules evaluator, registered as one built-in plugin. Each family has its module:
register (register, calendar), variant, tables, rules, functions."""
from __future__ import annotations

from sptui.evaluators.functions import FUNCTIONS
from sptui.evaluators.register import CALENDAR, REGISTER
from sptui.evaluators.rules import RULE, run_rules
from sptui.evaluators.tables import TABLE
from sptui.evaluators.variant import VARIANT
from sptui.policy.schema import Evaluator, hookimpl


@hookimpl
def sptui_block_kinds(register):
    for kind in (REGISTER, CALENDAR, VARIANT, TABLE, RULE):
        register(kind)


@hookimpl
def sptui_functions(register):
    for f in FUNCTIONS:
        register(f)


@hookimpl
def sptui_evaluators(register):
    register(Evaluator("rules", 10, run_rules, doc="runs every rule block in order; failing rules set the verdict"))
