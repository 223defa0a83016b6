"""The hooks a sptui plugin can implement. Every hook is documented in docs/plugins.md.

Each hook receives a `register` callback and calls it once per object it contributes; the host,
not the plugin, decides when to call what was registered, so one failing plugin cannot stop others.
A plugin marks its hook functions with `hookimpl` (sptui.plugins.api).
"""
from __future__ import annotations

from typing import Callable

import pluggy

from sptui.policy.schema import PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def sptui_block_kinds(register: Callable) -> None:
    """Register policy block kinds: `register(BlockKind(...))`."""


@hookspec
def sptui_functions(register: Callable) -> None:
    """Register DSL functions callable in policy expressions: `register(Function(...))`."""


@hookspec
def sptui_evaluators(register: Callable) -> None:
    """Register evaluators that add to a decision: `register(Evaluator(...))`."""


@hookspec
def sptui_variants(register: Callable) -> None:
    """Register pack variants that ship their own policy file: `register(VariantPack(...))`."""


@hookspec
def sptui_alarm_sources(register: Callable) -> None:
    """Register alarm sources beside SMTP: `register(AlarmSource(...))`."""
