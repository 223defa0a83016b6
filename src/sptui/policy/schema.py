"""What plugins register for the policy: block kinds (with their schemas), DSL functions, evaluators, variants.

A block kind's schema lists the entries its body takes and the type of each argument; the checker
validates every block against it and reports problems at their positions.

Argument types: string int bool date datetime duration money time window monthday mdrange weekdays
name (a bare identifier) clause (a citation) expr (an expression, compiled) cell (a table cell:
any literal, a name, a set, or `_`) ref:KIND (the name of a block of KIND).
"""
from __future__ import annotations

from typing import Any, Callable

import attrs
import pluggy

PROJECT = "sptui"  # the pluggy project name of sptui's hooks (sptui.plugins.hookspecs)
# marks a plugin's hook functions: here, beside the types they register, so the built-in plugins (evaluators/)
# need nothing from the plugin manager above them; plugin authors import it from sptui.plugins.api
hookimpl = pluggy.HookimplMarker(PROJECT)


@attrs.frozen
class EntrySpec:
    key: str
    args: tuple[str, ...] = ()
    variadic: str | None = None  # type of further arguments (then at least one argument in all)
    required: bool = False
    repeat: bool = False
    outputs: str | None = None  # `=> …` allowed, each of this type
    body: "BlockSchema | None" = None
    doc: str = ""


NOTE_JA = EntrySpec("note-ja", ("string",), doc='note-ja "…": the note in Japanese (explain --lang ja shows it)')


@attrs.frozen
class BlockSchema:
    entries: tuple[EntrySpec, ...]
    lets: bool = False  # `let` allowed inside
    _by_key: dict = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        by_key: dict[str, EntrySpec] = {}
        for e in self.entries:
            by_key.setdefault(e.key, e)
        if "note" in by_key:  # a block that takes a note takes it in Japanese too (explain --lang ja shows it)
            by_key.setdefault("note-ja", NOTE_JA)
        object.__setattr__(self, "_by_key", by_key)

    def spec(self, key: str) -> EntrySpec | None:
        return self._by_key.get(key)

    @property
    def keys(self) -> list[str]:
        return list(self._by_key)


@attrs.frozen
class BlockKind:
    """A top-level block kind, e.g. `rule NAME { … }`.

    compile(entry, ctx) → the compiled object, stored in policy.blocks[kind][name]. It may report
    diagnostics through ctx.error(...). `phase` orders compilation: lower first (tables and
    calendars before the rules that use them).
    """

    kind: str
    schema: BlockSchema
    compile: Callable[[Any, Any], Any]
    named: bool = True
    cited: bool = False  # every block of this kind must cite a clause
    phase: int = 50
    singleton: bool = False
    doc: str = ""
    example: str = ""


@attrs.frozen
class Function:
    """A DSL function. `impl(rt, *args)` gets the policy runtime first (rounding, calendars, tables).

    params: the argument types (see the module doc; `any` takes anything, `table` a table name,
    `column` a column of that table); `variadic` the type of further arguments. `total`: the function
    never returns null when no argument is null (lets the compiler leave out null checks).
    """

    name: str
    params: tuple[str, ...]
    returns: str
    impl: Callable[..., Any]
    variadic: str | None = None
    doc: str = ""
    example: str = ""
    total: bool = False


@attrs.frozen
class Evaluator:
    """Adds to a decision: `run(policy, ctx)` reads ctx.case and writes reasons and fields.

    Evaluators run by `order`; one that raises is reported as an `error` reason and the others go on.
    """

    name: str
    order: int
    run: Callable[[Any, Any], None]
    doc: str = ""


@attrs.frozen
class VariantPack:
    """A pack variant that a plugin ships with its own policy file(s), loaded with the main policy."""

    name: str
    policy_files: tuple[str, ...]
    years: tuple[int, ...] = ()
    doc: str = ""
