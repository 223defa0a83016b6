"""The plugin manager: built-ins and third-party plugins through one pluggy manager.

Built-in block kinds, functions and evaluators are ordinary plugins. Third-party plugins come from
the `sptui` entry-point group. `SPTUI_LOAD_PLUGINS=a,b` loads only those entry points;
`SPTUI_DISABLE_PLUGINS=a,b` skips those (built-in or not). A plugin that fails to import, has a
misspelt hook, or raises while registering is reported in `failures` and skipped; the host keeps
working.
"""
from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import traceback
from typing import Any, Callable

import attrs
import pluggy

from sptui.plugins import guard, hookspecs
from sptui.plugins.guard import bounded
from sptui.policy.schema import PROJECT

BUILTINS = (
    "sptui.evaluators.core",
    "sptui.evaluators.hours",
    "sptui.evaluators.fees",
    "sptui.evaluators.recovery",
    "sptui.evaluators.alarms",
)
HOOKS = ("sptui_block_kinds", "sptui_functions", "sptui_evaluators", "sptui_variants", "sptui_alarm_sources")


@attrs.frozen
class PluginFailure:
    plugin: str
    stage: str  # import, validate, register
    error: str
    detail: str = ""


@attrs.frozen
class PluginInfo:
    name: str
    version: str
    hooks: tuple[str, ...]
    builtin: bool


def _split_env(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {p.strip() for p in value.split(",") if p.strip()}


class PluginManager:
    """Loads plugins once and hands out what they registered, keyed by hook."""

    def __init__(self, *, entry_points: bool = True, extra: tuple[Any, ...] = ()):
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.infos: list[PluginInfo] = []
        self._registered: dict[str, list[tuple[str, Any]]] | None = None
        disabled = _split_env("SPTUI_DISABLE_PLUGINS") or set()
        for modname in BUILTINS:
            if modname in disabled:
                continue
            self._add(modname, lambda m=modname: importlib.import_module(m), builtin=True, version=_own_version())
        if entry_points:
            only = _split_env("SPTUI_LOAD_PLUGINS")
            for ep in md.entry_points(group="sptui"):
                if ep.name in disabled or (only is not None and ep.name not in only):
                    continue
                dist = ep.dist.version if ep.dist is not None else "?"
                self._add(ep.name, ep.load, builtin=False, version=dist)
        for obj in extra:
            name = getattr(obj, "__name__", None) or type(obj).__name__
            self._add(name, lambda o=obj: o, builtin=False, version="-")

    def _add(self, name: str, load: Callable[[], Any], *, builtin: bool, version: str) -> None:
        try:
            plugin = load()
        except (Exception, SystemExit) as e:  # a broken plugin is reported and skipped (one calling sys.exit too)
            self.failures.append(PluginFailure(name, "import", f"{type(e).__name__}: {e}", traceback.format_exc()))
            return
        try:
            self.pm.register(plugin, name=name)
        except (Exception, SystemExit) as e:
            self.failures.append(PluginFailure(name, "validate", f"{type(e).__name__}: {e}"))
            return
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as e:
            self.pm.unregister(plugin)
            self.failures.append(PluginFailure(name, "validate", f"unknown hook: {e}"))
            return
        hooks = tuple(h.name for h in self.pm.get_hookcallers(plugin) or ())
        self.infos.append(PluginInfo(name, version, hooks, builtin))

    def registered(self, hook: str) -> list[tuple[str, Any]]:
        """(plugin name, object) pairs that plugins registered through `hook`."""
        if self._registered is None:
            self._collect()
        assert self._registered is not None
        return self._registered[hook]

    def _collect(self) -> None:
        """Every hook run once: what each plugin registered, checked (guard.problem: a plugin that registers the
        wrong thing is reported and left out whole), a third-party plugin's code wrapped to run bounded."""
        out: dict[str, list[tuple[str, Any]]] = {h: [] for h in HOOKS}
        bad: set[str] = set()
        builtin = {i.name for i in self.infos if i.builtin}
        for hook in HOOKS:
            caller = getattr(self.pm.hook, hook)
            for impl in caller.get_hookimpls():  # registration order (pluggy calls them in reverse)
                got: list[Any] = []
                plugin = impl.plugin_name
                try:
                    bounded(lambda: impl.function(register=got.append), guard.COMPILE_SECONDS, f"the hook {hook}")
                    why = next((w for w in map(lambda o: guard.problem(hook, o), got) if w), None)
                    if why:
                        raise TypeError(why)
                except Exception as e:
                    self.failures.append(PluginFailure(plugin, "register", f"{hook}: {type(e).__name__}: {e}",
                                                       traceback.format_exc()))
                    bad.add(plugin)
                    continue
                out[hook].extend((plugin, obj if plugin in builtin else guard.guarded(plugin, obj)) for obj in got)
        self._registered = {h: [(p, o) for p, o in objs if p not in bad] for h, objs in out.items()}

    def fail(self, plugin: str, stage: str, error: str) -> None:
        """Report a plugin as failed at `stage` (once: a policy loaded again reports the same failure once)."""
        failure = PluginFailure(plugin, stage, error)
        if failure not in self.failures:
            self.failures.append(failure)

    @staticmethod
    def name_of(obj: Any) -> str:
        """What a registered object is known by: a block kind's `kind`, anything else's `name`."""
        return getattr(obj, "kind", None) or getattr(obj, "name", "")

    def check_names(self) -> None:
        """Every hook run, and every name given twice reported as a failure (what a policy load would find)."""
        for hook in HOOKS:
            self.unique(hook, self.name_of)

    def unique(self, hook: str, key: Callable[[Any], str]) -> dict[str, tuple[str, Any]]:
        """Registered objects by name; a name registered twice keeps the first and reports the second."""
        seen: dict[str, tuple[str, Any]] = {}
        for plugin, obj in self.registered(hook):
            k = key(obj)
            if k in seen:
                self.fail(plugin, "register", f"{hook}: `{k}` is already registered by {seen[k][0]}")
                continue
            seen[k] = (plugin, obj)
        return seen


def failure_diagnostics(manager: PluginManager) -> list:
    """The manager's failures as warnings (W091) for `sptui check`, each placed at `plugin NAME` (every hook run
    first, so a name two plugins register is among them)."""
    from sptui.policy.ast import Span
    from sptui.policy.diagnostics import Diagnostic

    manager.check_names()
    return [Diagnostic("W091", f"[{f.stage}] {f.error}; the commands go on without it", Span(f"plugin {f.plugin}", 0, 0, 0, 0),
                       "`sptui plugins -v` shows what failed, with its traceback")
            for f in manager.failures]


def _own_version() -> str:
    """sptui's own version, from its installed metadata (what `sptui --version` says)."""
    try:
        return md.version("sptui")
    except md.PackageNotFoundError:  # a source tree that is not installed
        return "unknown"


_default: PluginManager | None = None


def default_manager() -> PluginManager:
    """The process's manager, built on first use (never at import)."""
    global _default
    if _default is None:
        _default = PluginManager()
    return _default
