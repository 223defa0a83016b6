"""What an installed plugin registers is checked before the host uses it, and its code runs bounded.

A plugin is someone else's code: it may register the wrong thing (`register(None)`, an Evaluator whose `order` is
text), its DSL function may return what it did not declare, its evaluator may loop for ever or end the process
(`sys.exit`). `problem(hook, obj)` says what is wrong with a registered object (the manager then reports the
plugin, W091, and leaves it out); `guarded_*` wrap a third-party plugin's evaluator, function and block-kind
compile so that each call ends within a time budget (`Overtime`, an ordinary error: the decision makes it that
evaluator's or that rule's `error` reason) and raises nothing but an Exception. The built-in plugins are trusted
and run unwrapped.
"""
from __future__ import annotations

import datetime as dt
import functools
import signal
import sys
import threading
import time
from typing import Any, Callable

import attrs

from sptui.model.values import Duration, Money, TimeOfDay, Window
from sptui.plugins.sources import AlarmSource
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Evaluator, Function, VariantPack

EVALUATOR_SECONDS = 5.0  # one plugin evaluator's run in one decision
FUNCTION_SECONDS = 2.0  # one call of a plugin's DSL function
COMPILE_SECONDS = 10.0  # one plugin block's compile (in `check`)
LONGEST_TEXT = 10_000  # characters of text a plugin's function may return


class Overtime(Exception):
    """A plugin's code ran longer than its budget and was stopped."""


class PluginFault(Exception):
    """A plugin's code ended the process (`sys.exit`) or returned what it did not declare."""


# ---- what a plugin registers ----------------------------------------------------------------------------------
_TYPES = {"sptui_block_kinds": BlockKind, "sptui_functions": Function, "sptui_evaluators": Evaluator,
          "sptui_variants": VariantPack, "sptui_alarm_sources": AlarmSource}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _strings(v: Any) -> bool:
    return isinstance(v, (tuple, list)) and all(isinstance(x, str) for x in v)


def _schema_problem(schema: Any, depth: int = 0) -> str | None:
    if not isinstance(schema, BlockSchema) or depth > 8:
        return "its schema is not a BlockSchema"
    for e in schema.entries if isinstance(schema.entries, (tuple, list)) else (None,):
        if not isinstance(e, EntrySpec) or not isinstance(e.key, str) or not _strings(e.args):
            return "its schema holds something that is not an EntrySpec(key, (type, …))"
        if e.body is not None and _schema_problem(e.body, depth + 1):
            return _schema_problem(e.body, depth + 1)
    return None


_CHECKS: dict[type, Callable[[Any], list[tuple[bool, str]]]] = {
    BlockKind: lambda o: [(callable(o.compile), "its compile is not callable"),
                          (_is_int(o.phase), "its phase is not a whole number")],
    Function: lambda o: [(callable(o.impl), "its impl is not callable"),
                         (_strings(o.params), "its params are not a tuple of type names"),
                         (isinstance(o.returns, str), "its returns is not a type name"),
                         (o.variadic is None or isinstance(o.variadic, str), "its variadic is not a type name")],
    Evaluator: lambda o: [(callable(o.run), "its run is not callable"),
                          (_is_int(o.order), "its order is not a whole number")],
    VariantPack: lambda o: [(_strings(o.policy_files), "its policy_files are not a tuple of paths"),
                            (isinstance(o.years, (tuple, list)) and all(_is_int(y) for y in o.years),
                             "its years are not whole numbers")],
    AlarmSource: lambda o: [(callable(o.open), "its open is not callable")],
}


def problem(hook: str, obj: Any) -> str | None:
    """What is wrong with `obj`, registered through `hook` (None: nothing)."""
    want = _TYPES.get(hook)
    if want is None:
        return None
    if not isinstance(obj, want):
        return f"registered {type(obj).__name__}, not {'an' if want.__name__[0] in 'AEIOU' else 'a'} {want.__name__}"
    name = obj.kind if isinstance(obj, BlockKind) else obj.name
    if not isinstance(name, str) or not name:
        return f"registered a {want.__name__} without a name"
    for ok, why in _CHECKS[want](obj):
        if not ok:
            return f"{want.__name__} `{name}`: {why}"
    if isinstance(obj, BlockKind):
        why = _schema_problem(obj.schema)
        if why:
            return f"BlockKind `{name}`: {why}"
    return None


# ---- running a plugin's code ------------------------------------------------------------------------------------
_running = threading.local()  # inside a bounded call in this thread (a plugin evaluator calling a plugin function)


def bounded(fn: Callable[..., Any], seconds: float, what: str, *args: Any) -> Any:
    """`fn(*args)`, stopped with Overtime once it has run `seconds` (checked at each line of Python it runs, and by
    a timer signal in the main thread, which also stops a loop that runs no new line); SystemExit becomes
    PluginFault. A call inside a bounded call runs within the outer budget."""
    if getattr(_running, "on", False):
        return _call(fn, what, *args)
    deadline = time.monotonic() + seconds
    done = [False]

    def over(*_: Any) -> None:
        if not done[0]:
            raise Overtime(f"{what} ran longer than {seconds:g} s and was stopped")

    def tracer(frame, event, arg):
        if time.monotonic() > deadline:
            over()
        return tracer

    timer = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old_trace = sys.gettrace()
    if timer:
        old_handler = signal.signal(signal.SIGALRM, over)
        signal.setitimer(signal.ITIMER_REAL, seconds)  # once: a loop that runs no new line is stopped by it
    _running.on = True
    sys.settrace(tracer)
    try:
        return _call(fn, what, *args)
    finally:
        try:
            done[0] = True  # the timer, should it fire from here on, does nothing
        finally:  # (run even when the timer fired just before)
            sys.settrace(old_trace)
            _running.on = False
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_handler)


def _call(fn: Callable[..., Any], what: str, *args: Any) -> Any:
    try:
        return fn(*args)
    except SystemExit as e:
        raise PluginFault(f"{what} tried to end the process (SystemExit {e.code})") from None


_RETURNS: dict[str, tuple[type, ...]] = {
    "int": (int,), "bool": (bool,), "string": (str,), "symbol": (str,), "date": (dt.date,), "datetime": (dt.datetime,),
    "money": (Money,), "duration": (Duration,), "time": (TimeOfDay,), "window": (Window,),
    "any": (int, str, dt.date, Money, Duration, TimeOfDay, Window, frozenset, tuple),
}


def checked_result(value: Any, returns: str, what: str) -> Any:
    """The value a plugin's function returned, if it is of the type it declares (or null)."""
    if value is None:
        return None
    want = _RETURNS.get(returns)
    wrong = want is not None and (not isinstance(value, want) or (returns == "int" and isinstance(value, bool)) or
                                  (returns == "date" and isinstance(value, dt.datetime)))
    if wrong:
        raise PluginFault(f"{what} returned {type(value).__name__} where it declares {returns}")
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        raise PluginFault(f"{what} returned a naive date-time (without its offset)")
    if isinstance(value, str) and len(value) > LONGEST_TEXT:
        raise PluginFault(f"{what} returned {len(value):,} characters of text (at most {LONGEST_TEXT:,})")
    return value


def guarded(plugin: str, obj: Any) -> Any:
    """`obj` (a valid registered object of a third-party plugin) with its code run bounded. Code stopped once for
    running too long is not run again in this process: each later call fails at once, saying so (a plugin that
    hangs costs one budget, not one per decision)."""
    if isinstance(obj, Evaluator):
        what = f"the evaluator `{obj.name}` of the plugin {plugin}"
        return attrs.evolve(obj, run=_once_stopped(_checked_run(obj.run, what), EVALUATOR_SECONDS, what))
    if isinstance(obj, Function):
        what, returns = f"the function `{obj.name}` of the plugin {plugin}", obj.returns
        run = _once_stopped(obj.impl, FUNCTION_SECONDS, what)
        return attrs.evolve(obj, impl=_wraps(obj.impl, lambda *a: checked_result(run(*a), returns, what)))
    if isinstance(obj, BlockKind):
        return attrs.evolve(obj, compile=_once_stopped(obj.compile, COMPILE_SECONDS, f"the block kind `{obj.kind}` of "
                                                       f"the plugin {plugin}"))
    return obj


# ---- what a plugin's evaluator writes into a decision ---------------------------------------------------------------
_FIELDS = ("verdict", "in_service_hours", "dispatch_deadline", "fee", "setting_recovery", "contact")
_PLAIN = (str, int, bool, type(None))


def _checked_run(run: Callable[..., Any], what: str) -> Callable[..., Any]:
    """The evaluator's run, then what it wrote checked (each new reason's messages rendered now, as text); if any of
    it is not what a decision holds, the decision is put back as it was and PluginFault says what was wrong."""
    def checked(policy: Any, ctx: Any) -> None:
        before = tuple(getattr(ctx, f) for f in _FIELDS)
        trace, n = ctx.trace, len(ctx.trace)
        try:
            run(policy, ctx)
            why = _context_problem(ctx) if ctx.trace is trace else "replaced the list of reasons"
            if why is None:
                why = _reasons_problem(ctx, n)
        except (Overtime, PluginFault):
            _restore(ctx, before, trace, n)
            raise
        except Exception as e:  # named: which plugin's code failed
            _restore(ctx, before, trace, n)
            raise PluginFault(f"{what} raised {type(e).__name__}: {str(e)[:200]}") from e
        if why is not None:
            _restore(ctx, before, trace, n)
            raise PluginFault(f"{what} {why}; what it wrote is left out")

    return _wraps(run, checked)


def _restore(ctx: Any, before: tuple, trace: list, n: int) -> None:
    for f, v in zip(_FIELDS, before):
        setattr(ctx, f, v)
    del trace[n:]
    ctx.trace = trace


def _aware_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, dt.datetime) and v.tzinfo is not None)


def _context_problem(ctx: Any) -> str | None:
    from sptui.model.case import VERDICTS
    from sptui.model.decision import FeeQuote

    if ctx.verdict not in VERDICTS:
        return f"set the verdict to {type(ctx.verdict).__name__} {str(ctx.verdict)[:40]!r}"
    if not isinstance(ctx.in_service_hours, bool):
        return "set in_service_hours to something that is not true or false"
    if not _aware_or_none(ctx.dispatch_deadline):
        return "set a dispatch deadline that is not an aware date-time"
    if ctx.fee is not None and not isinstance(ctx.fee, FeeQuote):
        return "set a fee that is not a FeeQuote"
    for name in ("setting_recovery", "contact"):
        v = getattr(ctx, name)
        if v is not None and not (isinstance(v, dict) and all(
                isinstance(k, str) and (isinstance(x, _PLAIN) or k == "next_contact_at" and _aware_or_none(x))
                for k, x in v.items())):
            return f"set {name} to something that is not a record of plain values"
    return None


def _reasons_problem(ctx: Any, n: int) -> str | None:
    """What is wrong with the reasons added after the first n (None: nothing); each message rendered to text."""
    from sptui.model.case import VERDICTS
    from sptui.model.decision import OUTCOMES, Reason

    for i in range(n, len(ctx.trace)):
        r = ctx.trace[i]
        if not isinstance(r, Reason):
            return f"added a {type(r).__name__} as a reason, not a Reason"
        if not (isinstance(r.rule, str) and r.outcome in OUTCOMES and isinstance(r.cite, tuple) and
                all(isinstance(c, str) for c in r.cite) and isinstance(r.note, (str, type(None))) and
                (r.effect is None or r.effect in VERDICTS)):
            return f"added a reason `{str(r.rule)[:40]}` whose rule, outcome, cite, note or effect is not valid"
        try:
            shown = r._replace(view=ctx.view)  # (a template message reads the case)
            ja, en = shown.message_ja, shown.message_en
        except Exception as e:
            return f"added a reason `{r.rule}` whose message fails ({type(e).__name__}: {str(e)[:100]})"
        if not (isinstance(ja, str) and isinstance(en, str)) or max(len(ja), len(en)) > LONGEST_TEXT:
            return f"added a reason `{r.rule}` whose message is not text of at most {LONGEST_TEXT:,} characters"
        ctx.trace[i] = r._replace(text_ja=ja, text_en=en)
    return None


def _once_stopped(fn: Callable[..., Any], seconds: float, what: str) -> Callable[..., Any]:
    stopped: list[str] = []

    def run(*args: Any) -> Any:
        if stopped:
            raise Overtime(f"{stopped[0]}; not run again")
        try:
            return bounded(fn, seconds, what, *args)
        except Overtime as e:
            stopped.append(str(e))
            raise

    return _wraps(fn, run)


def _wraps(inner: Callable[..., Any], outer: Callable[..., Any]) -> Callable[..., Any]:
    """`outer`, known by `inner`'s name, with `__wrapped__` = inner (where a raising function is looked up)."""
    try:
        return functools.wraps(inner)(outer)
    except (AttributeError, TypeError):
        outer.__wrapped__ = inner  # type: ignore[attr-defined]
        return outer


__all__ = ["Overtime", "PluginFault", "problem", "guarded", "bounded", "checked_result"]
