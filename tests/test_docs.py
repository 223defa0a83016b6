"""The reference documents stay true to the code.

docs/plugins.md documents every hook with an example plugin that really loads and registers what it
says; docs/policy-language.md names every diagnostic code, DSL function and block kind, and its
policy examples parse (complete policies check clean; examples of mistakes cause the code they claim).
"""
from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import types
from pathlib import Path

import attrs
import pytest

from sptui.plugins import hookspecs
from sptui.plugins.manager import BUILTINS, HOOKS, PluginManager
from sptui.policy.diagnostics import CODES
from sptui.policy.parse import parse_text

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LANGUAGE = DOCS / "policy-language.md"
PLUGINS = DOCS / "plugins.md"
POLICIES = ROOT / "policies"
EXAMPLE_CASES = sorted((ROOT / "examples").glob("*.json"))

HOOK_NAMES = sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("sptui_"))
# how each hook's registered objects are named (names must be unique across plugins)
KEYS = {
    "sptui_block_kinds": lambda o: o.kind,
    "sptui_functions": lambda o: o.name,
    "sptui_evaluators": lambda o: o.name,
    "sptui_variants": lambda o: o.name,
    "sptui_alarm_sources": lambda o: o.name,
}


@attrs.frozen
class Fence:
    """A fenced code block: its info string, its text, and the line of its opening fence."""

    doc: Path
    line: int
    info: tuple[str, ...]
    text: str

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def fences(doc: Path) -> list[Fence]:
    out: list[Fence] = []
    lines = doc.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(```+)(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, info = len(m.group(1)), m.group(2), m.group(3).split()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{ticks}\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        assert j < len(lines), f"{doc.name}:{i + 1}: a code block that is never closed"
        out.append(Fence(doc, i + 1, tuple(info), "\n".join(body) + "\n"))
        i = j + 1
    return out


@attrs.frozen
class Section:
    title: str
    first: int  # the heading's line
    last: int  # the section's last line
    text: str

    def fences(self, doc: Path, info: tuple[str, ...]) -> list[Fence]:
        return [f for f in fences(doc) if self.first < f.line <= self.last and f.info[: len(info)] == info]


def sections(doc: Path, level: int = 2) -> dict[str, Section]:
    """Headings of this level (outside code blocks) → their section, up to the next heading as high."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    inside = set()
    for f in fences(doc):
        inside.update(range(f.line, f.line + f.text.count("\n") + 2))
    heads = [(n, len(m.group(1)), m.group(2).strip()) for n, line in enumerate(lines, 1)
             if n not in inside and (m := re.match(r"^(#{1,6}) (.*)$", line))]
    out: dict[str, Section] = {}
    for k, (n, lv, title) in enumerate(heads):
        if lv != level:
            continue
        end = next((m - 1 for m, lv2, _ in heads[k + 1:] if lv2 <= level), len(lines))
        out[title] = Section(title, n, end, "\n".join(lines[n:end]))
    return out


def plugin_examples(kind: str = "plugin-example") -> list[Fence]:
    return [f for f in fences(PLUGINS) if f.info[:2] == ("python", kind)]


def sptp_blocks(doc: Path) -> list[Fence]:
    return [f for f in fences(doc) if f.info[:1] == ("sptp",)]


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("SPTUI_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("SPTUI_DISABLE_PLUGINS", raising=False)


def load_example(fence: Fence, folder: Path) -> types.ModuleType:
    """Run an example as the module `docs_example_L<line>`, as if it were a file in `folder`."""
    name = f"docs_example_L{fence.line}"
    module = types.ModuleType(name)
    module.__file__ = str(folder / f"{name}.py")
    code = compile(fence.text, f"{fence.doc}:{fence.line}", "exec")
    exec(code, module.__dict__)  # noqa: S102 - running the documented example is the point
    return module


def own(pm: PluginManager, module: types.ModuleType, hook: str) -> list:
    return [obj for plugin, obj in pm.registered(hook) if plugin == module.__name__]


def shipped_policy_is_clean(pm: PluginManager) -> bool:
    from conftest import check

    policy, _, _ = check([POLICIES], plugins=pm)
    return policy is not None


def in_a_rule(expressions: list[str]) -> str:
    """A rule citing a clause of the shipped register, with these expressions as its lets (where functions are used)."""
    from conftest import check

    policy, _, _ = check([POLICIES], plugins=PluginManager(entry_points=False))
    clause = next(iter(policy.clauses))
    lets = "".join(f"  let docs-example-{i} = {e}\n" for i, e in enumerate(expressions))
    return (f"rule docs-example {{\n  cite {clause}\n{lets}  require true\n"
            f'  fail-ja "docs"\n  fail-en "docs"\n}}\n')


# ---- docs/plugins.md ------------------------------------------------------------------------------
def test_there_are_hooks_and_the_manager_knows_them_all():
    assert HOOK_NAMES, "sptui.hookspecs defines no hook"
    assert set(HOOK_NAMES) == set(HOOKS), "sptui.plugins.HOOKS and sptui.hookspecs disagree"


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_every_hook_has_a_section_with_an_example(hook):
    found = sections(PLUGINS)
    assert hook in found, f"docs/plugins.md has no `## {hook}` heading"
    examples = [f for f in found[hook].fences(PLUGINS, ("python", "plugin-example")) if hook in f.text]
    assert examples, f"the `## {hook}` section of docs/plugins.md has no `python plugin-example` block using it"


def test_plugin_examples_exist():
    assert len(plugin_examples()) >= len(HOOK_NAMES)


@pytest.mark.parametrize("fence", plugin_examples(), ids=lambda f: f.id)
def test_plugin_example_loads_and_registers(fence, tmp_path, clean_env):
    module = load_example(fence, tmp_path)
    implemented = [h for h in HOOKS if callable(getattr(module, h, None))]
    assert implemented, f"{fence.id}: the example implements no hook"

    pm = PluginManager(entry_points=False, extra=(module,))
    for hook in HOOKS:
        pm.unique(hook, KEYS[hook])  # reports name clashes with the built-ins as failures
    assert not pm.failures, f"{fence.id}: {[attrs.asdict(f) for f in pm.failures]}"
    info = next((i for i in pm.infos if i.name == module.__name__), None)
    assert info is not None, f"{fence.id}: the manager did not load the example"
    assert set(info.hooks) == set(implemented), f"{fence.id}: the manager sees hooks {info.hooks}"
    for hook in implemented:
        assert own(pm, module, hook), f"{fence.id}: {hook} registered nothing"
        schema_class = {"sptui_block_kinds": "BlockKind", "sptui_functions": "Function",
                        "sptui_evaluators": "Evaluator", "sptui_variants": "VariantPack",
                        "sptui_alarm_sources": "AlarmSource"}[hook]
        for obj in own(pm, module, hook):
            assert type(obj).__name__ == schema_class, f"{fence.id}: {hook} registered a {type(obj).__name__}"


@pytest.mark.parametrize("fence", plugin_examples(), ids=lambda f: f.id)
def test_plugin_example_works_with_the_shipped_policy(fence, tmp_path, clean_env):
    """Block kinds' examples and functions' examples check; variants load; evaluators run without error."""
    from conftest import check

    if not shipped_policy_is_clean(PluginManager(entry_points=False)):
        pytest.skip("the shipped policy does not check on its own")
    # the policy files shown in the same section (`# file: NAME` on their first line) sit beside the module
    section = next(s for s in sections(PLUGINS).values() if s.first < fence.line <= s.last)
    for f in section.fences(PLUGINS, ("sptp",)):
        m = re.match(r"#\s*file:\s*(\S+)", f.text)
        if m:
            (tmp_path / m.group(1)).write_text(f.text, encoding="utf-8")
    module = load_example(fence, tmp_path)
    pm = PluginManager(entry_points=False, extra=(module,))

    extra = {f"{module.__name__}-{k.kind}.sptp": k.example for k in own(pm, module, "sptui_block_kinds") if k.example}
    uses = [fn.example for fn in own(pm, module, "sptui_functions") if fn.example]
    if uses:
        extra[f"{module.__name__}-functions.sptp"] = in_a_rule(uses)
    policy, diags, _ = check([POLICIES], plugins=pm, extra_text=extra)
    errors = [f"{d.span}: {d.code} {d.message}" for d in diags if d.is_error]
    assert policy is not None and not errors, f"{fence.id}: {errors}"

    for variant in own(pm, module, "sptui_variants"):
        assert variant.name in policy.variants, f"{fence.id}: the variant {variant.name} did not load"
    evaluators = {e.name for e in own(pm, module, "sptui_evaluators")}
    for path in EXAMPLE_CASES if evaluators else ():
        decision = policy.decide(json.loads(path.read_text(encoding="utf-8")))
        broken = [r.message_en for r in decision.trace if r.outcome == "error"]
        assert not broken, f"{fence.id} with {path.name}: {broken}"


def alarm_source_examples() -> list[Fence]:
    return [f for f in plugin_examples() if "def sptui_alarm_sources" in f.text]


@pytest.mark.parametrize("fence", alarm_source_examples(), ids=lambda f: f.id)
def test_alarm_source_example_stores_its_mails_and_marks_them_done(fence, tmp_path, clean_env, policy):
    """The documented alarm source, run as `sptui intake source` runs it, into a real SQLite store."""
    from sptui.intake.source import run_source
    from sptui.store import Store
    from sptui.testing import alarm_mail, registry_csv, registry_row, tokyo

    module = load_example(fence, tmp_path)
    pm = PluginManager(entry_points=False, extra=(module,))
    [source] = own(pm, module, "sptui_alarm_sources")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "1.eml").write_bytes(alarm_mail("SV0001", tokyo("2026-11-27 17:29"), message_id="doc@esm"))
    (inbox / "2.eml").write_bytes(b"Subject: not an alarm\r\n\r\nhello\r\n")
    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    try:
        store.registry.import_csv(registry_csv([registry_row(1)]))
        counts = run_source(source.open(str(inbox)), store, policy)
        assert counts == {"stored": 1, "duplicate": 0, "quarantined": 1, "not-stored": 0}
        assert [a["computer"] for a in store.alarms.rows()] == ["SV0001"]
    finally:
        store.close()
    assert not list(inbox.glob("*.eml")), "a stored mail was not marked done"


@pytest.mark.parametrize("fence", plugin_examples("plugin-broken-example"), ids=lambda f: f.id)
def test_broken_plugin_example_is_reported_and_skipped(fence, tmp_path, clean_env):
    module = load_example(fence, tmp_path)
    stage = fence.info[2] if len(fence.info) > 2 else None
    pm = PluginManager(entry_points=False, extra=(module,))
    pm.registered("sptui_functions")
    mine = [f for f in pm.failures if f.plugin == module.__name__]
    assert mine, f"{fence.id}: the broken example was not reported"
    if stage:
        assert {f.stage for f in mine} == {stage}, f"{fence.id}: {[attrs.asdict(f) for f in mine]}"
    for hook in HOOKS:
        assert not own(pm, module, hook), f"{fence.id}: a broken plugin still registered through {hook}"
    assert {p for p, _ in pm.registered("sptui_block_kinds")} == set(BUILTINS), "the built-ins stopped working"


def test_plugin_docs_name_the_builtins_and_environment():
    text = PLUGINS.read_text(encoding="utf-8")
    for name in (*BUILTINS, "SPTUI_LOAD_PLUGINS", "SPTUI_DISABLE_PLUGINS", "check_pending", "sptui plugins -v",
                 "[project.entry-points.sptui]"):
        assert name in text, f"docs/plugins.md does not mention {name}"


@pytest.mark.parametrize("cls_name", ["Function", "Evaluator", "VariantPack", "AlarmSource"])
def test_every_field_of_a_registered_class_is_in_its_table(cls_name):
    """A field a plugin author can set (such as Function.total) is documented in the table of its hook."""
    from sptui.plugins import api as schema

    text = PLUGINS.read_text(encoding="utf-8")
    cls = getattr(schema, cls_name)
    for field in attrs.fields(cls):
        assert f"| `{field.name}` |" in text, f"docs/plugins.md: the {cls_name} table lacks `{field.name}`"


# ---- docs/policy-language.md ----------------------------------------------------------------------
def test_every_diagnostic_code_is_in_the_table():
    rows = {}
    for line in LANGUAGE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([EW]\d{3})\s*\|\s*(\w+)\s*\|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    missing = sorted(set(CODES) - set(rows))
    assert not missing, f"docs/policy-language.md's diagnostics table lacks {missing}"
    stale = sorted(set(rows) - set(CODES))
    assert not stale, f"docs/policy-language.md documents codes that no longer exist: {stale}"
    wrong = {c: (rows[c], CODES[c][0]) for c in CODES if rows[c] != CODES[c][0]}
    assert not wrong, f"severities in the table differ from CODES (doc, code): {wrong}"


def test_policy_examples_exist():
    assert len(sptp_blocks(LANGUAGE)) > 20


def mistake_examples() -> list[Fence]:
    return [f for f in sptp_blocks(LANGUAGE) if f.info[1:2] == ("error",)]


def policy_examples() -> list[Fence]:
    return [f for f in sptp_blocks(LANGUAGE) + sptp_blocks(PLUGINS) if f not in mistake_examples()]


@pytest.mark.parametrize("fence", policy_examples(), ids=lambda f: f.id)
def test_policy_example_parses(fence):
    """Every `sptp` example parses; `sptp error CODE` examples are checked by test_mistake_example_reports_its_code."""
    _, diags = parse_text(fence.text, fence.id)
    assert not diags, "\n".join(f"{d.span}: {d.code} {d.message}" for d in diags)


@pytest.mark.parametrize("fence", [f for f in sptp_blocks(LANGUAGE) if re.search(r'^policy "', f.text, re.MULTILINE)],
                         ids=lambda f: f.id)
def test_complete_policy_example_checks_clean(fence, clean_env):
    from conftest import check

    policy, diags, _ = check([], plugins=PluginManager(entry_points=False), extra_text={"example.sptp": fence.text})
    assert policy is not None and not diags, [f"{d.span}: {d.code} {d.message}" for d in diags]


@pytest.mark.parametrize("fence", mistake_examples(), ids=lambda f: f.id)
def test_mistake_example_reports_its_code(fence, clean_env):
    """`sptp error CODE` blocks, read with the shipped policy, cause that diagnostic."""
    from conftest import check

    want = fence.info[2]
    assert want in CODES, f"{fence.id}: {want} is not a diagnostic code"
    if not shipped_policy_is_clean(PluginManager(entry_points=False)):
        pytest.skip("the shipped policy does not check on its own")
    name = f"docs-example-{fence.line}.sptp"
    _, diags, _ = check([POLICIES], plugins=PluginManager(entry_points=False), extra_text={name: fence.text})
    got = {d.code for d in diags if d.span.file.endswith(name)}
    assert want in got, f"{fence.id}: expected {want}, got {sorted(got)}"


def builtin_registered(hook: str) -> list:
    pm = PluginManager(entry_points=False)
    return [obj for plugin, obj in pm.registered(hook) if plugin in BUILTINS]


@pytest.mark.parametrize("fn", builtin_registered("sptui_functions"), ids=lambda f: f.name)
def test_every_builtin_function_has_a_heading(fn, clean_env):
    assert any(h.startswith(f"`{fn.name}(") for h in sections(LANGUAGE, 3)), \
        f"docs/policy-language.md has no `### `{fn.name}(…)`` heading"


@pytest.mark.parametrize("kind", builtin_registered("sptui_block_kinds"), ids=lambda k: k.kind)
def test_every_builtin_block_kind_has_a_section_naming_its_entries(kind, clean_env):
    found = sections(LANGUAGE, 3)
    head = f"`{kind.kind}`"
    assert head in found, f"docs/policy-language.md has no `### {head}` heading"

    def keys(schema):
        for e in schema.entries:
            yield e.key
            if e.body is not None:
                yield from keys(e.body)

    section = found[head]
    missing = [k for k in keys(kind.schema) if f"`{k}`" not in section.text]
    assert not missing, f"the `{kind.kind}` section does not name its entries {missing}"
    starts = re.compile(rf"^{re.escape(kind.kind)}\b", re.MULTILINE)
    examples = [f for f in section.fences(LANGUAGE, ("sptp",)) if starts.search(f.text)]
    assert examples, f"the `{kind.kind}` section has no sptp example of a {kind.kind} block"


@pytest.mark.parametrize("kind", builtin_registered("sptui_block_kinds"), ids=lambda k: k.kind)
def test_builtin_block_kind_example_parses(kind):
    assert kind.example, f"the `{kind.kind}` block kind has no example"
    _, diags = parse_text(kind.example, f"<{kind.kind} example>")
    assert not diags, [f"{d.code} {d.message}" for d in diags]


@pytest.mark.parametrize("fn", builtin_registered("sptui_functions"), ids=lambda f: f.name)
def test_builtin_function_example_checks_with_the_shipped_policy(fn, clean_env):
    from conftest import check

    if not shipped_policy_is_clean(PluginManager(entry_points=False)):
        pytest.skip("the shipped policy does not check on its own")
    assert fn.example, f"`{fn.name}` has no example"
    _, diags, _ = check([POLICIES], plugins=PluginManager(entry_points=False),
                        extra_text={"example.sptp": in_a_rule([fn.example])})
    errors = [f"{d.code} {d.message}" for d in diags if d.is_error]
    assert not errors, f"the example of `{fn.name}` does not check: {errors}"


def test_every_case_field_is_documented():
    from sptui.model.case import DECISION_FIELDS, FIELDS

    text = LANGUAGE.read_text(encoding="utf-8")
    missing = [f for f in (*FIELDS, *DECISION_FIELDS) if f"`{f}`" not in text]
    assert not missing, f"docs/policy-language.md does not list the case fields {missing}"


def test_every_value_of_a_fixed_symbol_field_is_in_its_row():
    """The field table lists every value a symbol field with fixed values may take (pp_issue.request lacked `fix`
    and `disaster`)."""
    from sptui.model.case import FIELDS

    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z_.]+)` \| symbol \|[^|]*\|(.*)\|$",
                                                        LANGUAGE.read_text(encoding="utf-8"), re.MULTILINE)}
    missing = {f: sorted(v for v in spec[1] if f"`{v}`" not in rows.get(f, ""))
               for f, spec in FIELDS.items() if spec[0] == "symbol" and spec[1]}
    assert not {f: v for f, v in missing.items() if v}, missing


def test_date_rounding_table_matches_the_code():
    from sptui.clock.dates import add_months

    text = LANGUAGE.read_text(encoding="utf-8")
    for rounding, feb in (("clamp", "2025-02-28"), ("roll-forward", "2025-03-01")):
        assert add_months(dt.date(2024, 2, 29), 12, rounding).isoformat() == feb
        assert f"`{feb}`" in text
