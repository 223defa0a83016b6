"""The plugin manager: built-ins as plugins, entry points, broken plugins reported and skipped."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import POLICIES
from sptui.plugins.manager import BUILTINS, PluginManager

HOOKIMPL = "from sptui.plugins.api import hookimpl\n"


def make_dist(site, name: str, module_source: str, entry: str | None = None) -> None:
    """A real installed distribution: dist-info with an entry point in group `sptui`, and its module."""
    mod = f"{name.replace('-', '_')}_plugin"
    (site / f"{mod}.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    info = site / f"{name}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[sptui]\n{entry or name} = {mod}\n", encoding="utf-8")


def module(name: str, source: str):
    import types

    m = types.ModuleType(name)
    exec(textwrap.dedent(source), m.__dict__)
    return m


def test_builtins_register_as_ordinary_plugins():
    pm = PluginManager(entry_points=False)
    assert [i.name for i in pm.infos] == list(BUILTINS)
    assert not pm.failures
    kinds = {obj.kind for _, obj in pm.registered("sptui_block_kinds")}
    assert {"rule", "table", "variant", "calendar", "register", "onsite", "fee", "recovery", "express"} <= kinds


def test_misspelt_hook_is_reported_and_skipped():
    bad = module("typo_plugin", HOOKIMPL + "@hookimpl\ndef sptui_evaluator(register):\n    pass\n")
    pm = PluginManager(entry_points=False, extra=(bad,))
    assert [f.plugin for f in pm.failures] == ["typo_plugin"]
    assert "sptui_evaluator" in pm.failures[0].error
    assert "typo_plugin" not in [i.name for i in pm.infos]


def test_a_hook_that_raises_is_reported_and_others_still_register():
    bad = module("raising_plugin", HOOKIMPL + "@hookimpl\ndef sptui_functions(register):\n    raise RuntimeError('boom')\n")
    pm = PluginManager(entry_points=False, extra=(bad,))
    names = {f.name for _, f in pm.registered("sptui_functions")}
    assert "add_years" in names
    assert any(f.plugin == "raising_plugin" and "boom" in f.error for f in pm.failures)


def test_registering_a_name_twice_keeps_the_first_and_reports_the_second(policy):
    src = HOOKIMPL + """
from sptui.evaluators.variant import VARIANT
@hookimpl
def sptui_block_kinds(register):
    register(VARIANT)
"""
    dup = module("dup_plugin", src)
    pm = PluginManager(entry_points=False, extra=(dup,))
    kinds = pm.unique("sptui_block_kinds", lambda b: b.kind)
    assert kinds["variant"][0] == "sptui.evaluators.core"
    assert any(f.plugin == "dup_plugin" and "already registered" in f.error for f in pm.failures)


def test_a_failing_evaluator_does_not_stop_the_others(base_case):
    import sptui

    src = HOOKIMPL + """
from sptui.policy.schema import Evaluator
def explode(policy, ctx):
    raise ZeroDivisionError("bad plugin")
@hookimpl
def sptui_evaluators(register):
    register(Evaluator("exploding", 15, explode))
"""
    pm = PluginManager(entry_points=False, extra=(module("exploding_plugin", src),))
    d = sptui.load_policy(POLICIES, plugins=pm).decide(base_case)
    # the other evaluators still ran …
    assert d.in_service_hours is True and any(r.rule == "service-period" for r in d.reasons)
    # … but an unfinished decision is never a silent "covered": a person must decide
    assert d.verdict == "consult"
    err = [r for r in d.reasons if r.outcome == "error"]
    assert err and "bad plugin" in err[0].message_en


def test_plugin_block_kind_is_checked_against_its_schema(tmp_path):
    import shutil

    import sptui
    from conftest import check

    src = HOOKIMPL + """
from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec, Function
from sptui.plugins.api import CITE
def compile_sla(b, ctx):
    return b.value("respond-within")
@hookimpl
def sptui_block_kinds(register):
    register(BlockKind("sla", BlockSchema((CITE, EntrySpec("respond-within", ("duration",), required=True))),
                       compile_sla, cited=True))
@hookimpl
def sptui_functions(register):
    register(Function("double", ("int",), "int", lambda rt, n: 2 * n))
"""
    pm = PluginManager(entry_points=False, extra=(module("sla_plugin", src),))
    pol = tmp_path / "policies"
    shutil.copytree(POLICIES, pol)
    (pol / "sla.sptp").write_text("sla gold {\n  cite 第1章 2.2\n  respond-within 08:30\n}\n", encoding="utf-8")
    _, diags, _ = check([pol], plugins=pm)
    bad = [d for d in diags if d.is_error]
    assert [(d.code, d.span.line, d.span.col) for d in bad] == [("E033", 3, 18)]
    assert "duration" in bad[0].message
    (pol / "sla.sptp").write_text("sla gold {\n  cite 第1章 2.2\n  respond-within 4h\n}\n", encoding="utf-8")
    policy = sptui.load_policy(pol, plugins=pm)
    assert policy.blocks["sla"]["gold"].minutes == 240


@pytest.fixture
def site(tmp_path):
    d = tmp_path / "site"
    d.mkdir()
    return d


def sptui_with(site, *args, env=None, input=None):
    import os

    e = dict(os.environ, PYTHONPATH=str(site), **(env or {}))
    return subprocess.run([sys.executable, "-m", "sptui.cli", *args], capture_output=True, text=True, env=e,
                          input=input, timeout=120, cwd=POLICIES.parent)  # (`policies`: the repository's)


def test_broken_entry_point_plugins_are_listed_and_the_host_still_works(site, base_case):
    make_dist(site, "raises-on-import", "raise ImportError('missing dependency frobnicate')\n")
    make_dist(site, "misspelt", HOOKIMPL + "@hookimpl\ndef sptui_block_kind(register):\n    pass\n")
    make_dist(site, "twice", HOOKIMPL + """
from sptui.evaluators.variant import VARIANT
@hookimpl
def sptui_block_kinds(register):
    register(VARIANT)
""")
    p = sptui_with(site, "plugins", "-v")
    assert p.returncode == 1, p.stderr  # something failed: a script can tell
    assert "FAILED raises-on-import [import]: ImportError: missing dependency frobnicate" in p.stdout
    assert "FAILED misspelt [validate]" in p.stdout and "sptui_block_kind" in p.stdout
    assert "FAILED twice [register]" in p.stdout and "already registered" in p.stdout
    p = sptui_with(site, "eval", "-", input=json.dumps(base_case))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["verdict"] == "covered"
    assert sptui_with(site, "check", "policies").returncode == 0


def test_entry_point_plugin_is_loaded_with_its_version(site):
    make_dist(site, "good-plugin", HOOKIMPL + """
from sptui.policy.schema import Function
@hookimpl
def sptui_functions(register):
    register(Function("triple", ("int",), "int", lambda rt, n: 3 * n))
""")
    p = sptui_with(site, "plugins", "-v")
    assert "good-plugin 1.2.3 (installed: good-plugin → good_plugin_plugin)" in p.stdout
    assert "hooks: sptui_functions" in p.stdout
    assert "functions: triple" in p.stdout
    p = sptui_with(site, "plugins", "-v", env={"SPTUI_DISABLE_PLUGINS": "good-plugin"})
    assert "good-plugin" not in p.stdout
    p = sptui_with(site, "plugins", "-v", env={"SPTUI_LOAD_PLUGINS": "other"})
    assert "good-plugin" not in p.stdout and "sptui.evaluators.core" in p.stdout
    # the metadata listing says what is installed, and what the switches leave out
    p = sptui_with(site, "plugins", env={"SPTUI_DISABLE_PLUGINS": "good-plugin"})
    assert "good-plugin 1.2.3 (installed: good-plugin → good_plugin_plugin) [disabled]" in p.stdout


def test_the_plain_listing_reads_metadata_and_imports_no_plugin(site, tmp_path):
    marker = tmp_path / "imported"
    make_dist(site, "noisy", f"open({str(marker)!r}, 'w').write('yes')\n" + HOOKIMPL)
    make_dist(site, "gone", "", entry="gone")
    (site / "gone_plugin.py").unlink()  # metadata of a plugin whose module is not there
    p = sptui_with(site, "plugins")
    assert p.returncode == 0, p.stderr
    assert "noisy 1.2.3 (installed: noisy → noisy_plugin)" in p.stdout
    assert "FAILED gone [metadata]: no module named 'gone_plugin' is installed" in p.stdout
    assert not marker.exists()  # listed, not imported
    p = sptui_with(site, "plugins", "-v")
    assert marker.exists() and "noisy 1.2.3" in p.stdout
    assert "FAILED gone [import]" in p.stdout


def test_plugin_new_writes_a_package_whose_test_passes(tmp_path):
    p = subprocess.run([sys.executable, "-m", "sptui.cli", "plugin", "new", "night-owl", "--dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    root = tmp_path / "sptui-night-owl"
    assert (root / "src" / "sptui_night_owl" / "night-owl.sptp").exists()
    assert 'night-owl = "sptui_night_owl"' in (root / "pyproject.toml").read_text()
    # its test, run as its author would before installing it: the module from src/, sptui.testing's fixtures
    import os

    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    t = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                       capture_output=True, text=True, cwd=root, env=env, timeout=120)
    assert t.returncode == 0, t.stdout + t.stderr
    assert "1 passed" in t.stdout
    # a broken edit of its policy file is caught by the same test, with the file and line
    sptp = root / "src" / "sptui_night_owl" / "night-owl.sptp"
    sptp.write_text(sptp.read_text().replace("window 08:30-17:30", "window 08:30-", 1))
    t = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                       capture_output=True, text=True, cwd=root, env=env, timeout=120)
    assert t.returncode == 1 and "night-owl.sptp:" in t.stdout


@pytest.mark.parametrize("name, message", [("Night_Owl", "is not a plugin name"), ("night-owl", "exists already"),
                                           ("weekday-9h", "has a variant 'weekday-9h' already"),
                                           ("true", "a word of the policy language")])
def test_plugin_new_refuses_a_bad_name_or_an_existing_folder(tmp_path, name, message):
    (tmp_path / "sptui-night-owl").mkdir()
    p = subprocess.run([sys.executable, "-m", "sptui.cli", "plugin", "new", name, "--dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and message in p.stderr


def test_importing_the_cli_loads_no_plugin(site, tmp_path):
    import os

    marker = tmp_path / "imported"
    make_dist(site, "noisy", f"open({str(marker)!r}, 'w').write('yes')\n" + HOOKIMPL)  # an installed plugin
    code = ("import sys, sptui.cli; bad = [m for m in sys.modules if m.startswith(('sptui.evaluators', 'sptui.plugins',"
            " 'pluggy', 'lark', 'holidays', 'textual', 'noisy'))]; print(bad); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(site)))
    assert p.returncode == 0, p.stdout + p.stderr
    assert not marker.exists()
    # the same plugin is imported as soon as a command needs the plugins (the check above can fail)
    sptui_with(site, "plugins", "-v")
    assert marker.exists()


def variant_plugin(site, name: str, policy_text: str, *, twice: bool = False) -> None:
    """An installed plugin whose variant pack ships a policy file."""
    (site / f"{name.replace('-', '_')}.sptp").write_text(policy_text, encoding="utf-8")
    reg = (f"    register(VariantPack({name!r}, (str(HERE / {name.replace('-', '_') + '.sptp'!r}),)))\n")
    make_dist(site, name, HOOKIMPL + "from pathlib import Path\nfrom sptui.policy.schema import VariantPack\n"
              "HERE = Path(__file__).resolve().parent\n@hookimpl\ndef sptui_variants(register):\n"
              + reg * (2 if twice else 1))


NIGHT = """variant night {
  cite 第1章 3
  years 1, 3
  hours hw {
    days every-day
    window 17:30-08:30
  }
  hours pp {
    days mon-fri
    window 08:30-17:30
  }
}
"""


def test_a_plugin_whose_policy_file_has_errors_is_skipped_and_the_rest_works(site, base_case):
    variant_plugin(site, "clash", NIGHT.replace("variant night", "variant weekday-9h"))  # a name the policy has
    variant_plugin(site, "night", NIGHT)
    p = sptui_with(site, "eval", "-", input=json.dumps(dict(base_case, pack=dict(base_case["pack"], variant="night",
                                                                                   years=3))))
    assert p.returncode == 0, p.stderr  # the good plugin's variant works
    assert json.loads(p.stdout)["verdict"] == "covered"
    assert "warning: plugin clash [policy]: its policy files are left out: " in p.stderr
    assert "clash.sptp:1:" in p.stderr and "E036" in p.stderr
    assert p.stderr.count("plugin clash") == 1
    # sptui plugins -v reads the policy as a decision would, so it shows this failure too
    p = sptui_with(site, "plugins", "-v")
    assert p.returncode == 1 and "FAILED clash [policy]: its policy files are left out: " in p.stdout
    # the author sees every error, with its position
    p = sptui_with(site, "check", "policies")
    assert p.returncode == 1 and "clash.sptp:1:" in p.stdout


def test_a_plugin_registering_its_variant_twice_is_reported_and_the_variant_loads_once(site, base_case):
    variant_plugin(site, "night", NIGHT, twice=True)
    p = sptui_with(site, "plugins", "-v")
    assert "FAILED night [register]: sptui_variants: `night` is already registered by night" in p.stdout
    p = sptui_with(site, "eval", "-", input=json.dumps(dict(base_case, pack=dict(base_case["pack"], variant="night",
                                                                                   years=3))))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["verdict"] == "covered"  # the first registration is used
    assert "warning: plugin night [register]: sptui_variants: `night` is already registered by night" in p.stderr
    assert sptui_with(site, "check", "policies").returncode == 0


# ---- issue 17: what `check` reports of plugins (item 18), errors in rules and evaluators (items 16, 19) ---------------
def test_check_reports_a_plugin_that_fails_to_load_as_a_warning_and_strict_fails(site):
    make_dist(site, "raises-on-import", "raise ImportError('missing dependency frobnicate')\n")
    make_dist(site, "misspelt", HOOKIMPL + "@hookimpl\ndef sptui_block_kind(register):\n    pass\n")
    make_dist(site, "twice", HOOKIMPL + """
from sptui.evaluators.variant import VARIANT
@hookimpl
def sptui_block_kinds(register):
    register(VARIANT)
""")
    p = sptui_with(site, "check", "policies")
    assert p.returncode == 0, p.stdout + p.stderr  # warnings: the policy itself is fine
    out = p.stdout
    assert ("plugin raises-on-import: warning[W091]: [import] ImportError: missing dependency frobnicate; "
            "the commands go on without it") in out
    assert "plugin misspelt: warning[W091]: [validate] unknown hook" in out and "sptui_block_kind" in out
    assert "plugin twice: warning[W091]: [register] sptui_block_kinds: `variant` is already registered" in out
    assert "= hint: `sptui plugins -v` shows what failed, with its traceback" in out
    assert "0 error(s), 3 warning(s)" in out
    p = sptui_with(site, "check", "--strict", "policies")
    assert p.returncode == 1 and "0 error(s), 3 warning(s)" in p.stdout
    p = sptui_with(site, "check", "--format", "json", "policies")
    got = json.loads(p.stdout)
    assert got["warnings"] == 3 and {d["file"] for d in got["diagnostics"]} == {
        "plugin raises-on-import", "plugin misspelt", "plugin twice"}


def test_check_with_no_broken_plugin_has_no_plugin_warning(site):
    p = sptui_with(site, "check", "--strict", "policies")
    assert p.returncode == 0 and "W091" not in p.stdout and "0 error(s), 0 warning(s)" in p.stdout


def test_a_plugin_function_that_raises_is_named_in_its_rules_error_with_the_plugin(base_case):
    from conftest import check

    src = HOOKIMPL + """
from sptui.policy.schema import Function
def ratio(rt, n):
    return 10 // (n - n)
@hookimpl
def sptui_functions(register):
    register(Function("ratio", ("int",), "int", ratio))
"""
    pm = PluginManager(entry_points=False, extra=(module("ratio_plugin", src),))
    rule = ('rule uses-ratio {\n  cite 第1章 4\n  require ratio(pack.years) > 1\n  fail-ja "x"\n  fail-en "x"\n}\n\n'
            'rule after-it {\n  cite 第1章 4\n  require false\n  on-fail info\n  fail-ja "後"\n  fail-en "still runs"\n}\n')
    policy, diags, _ = check([str(POLICIES)], plugins=pm, extra_text={"ratio.sptp": rule})
    assert policy is not None, diags
    d = policy.decide(base_case)
    by_rule = {r.rule: r for r in d.reasons}
    assert by_rule["uses-ratio"].outcome == "error" and by_rule["after-it"].message_en == "still runs"
    assert by_rule["uses-ratio"].message_en == (
        "rule uses-ratio (ratio.sptp:1) could not be decided: ZeroDivisionError: integer division or modulo by zero "
        "(in the function `ratio` of the plugin ratio_plugin); a person must decide")
    assert d.verdict == "consult" and d.dispatch_deadline is None


AFTER_ONSITE = HOOKIMPL + """
from sptui.model.decision import Reason
from sptui.policy.schema import Evaluator
def late(policy, ctx):
    {body}
@hookimpl
def sptui_evaluators(register):
    register(Evaluator("late", 45, late))  # after onsite (30), which set the deadline from the verdict then
"""


@pytest.mark.parametrize("body, verdict", [
    ("raise RuntimeError('a plugin that fails after the deadline was set')", "consult"),
    ("ctx.add(Reason('late-check', 'fail', (), 'x', 'a late check fails', effect='not-covered'))", "not-covered"),
])
def test_the_computed_fields_follow_the_final_verdict(base_case, body, verdict):
    import sptui

    base_case["failure"] = {"raid": True, "disks_failed": 1}
    pm = PluginManager(entry_points=False, extra=(module("late_plugin", AFTER_ONSITE.replace("{body}", body)),))
    d = sptui.load_policy(POLICIES, plugins=pm).decide(base_case)
    assert d.verdict == verdict
    assert d.dispatch_deadline is None and d.to_json()["dispatch_deadline"] is None  # only for a covered verdict
    assert d.setting_recovery is None  # the same
    assert [r.rule for r in d.reasons].count("late" if verdict == "consult" else "late-check") == 1
    assert not [r for r in d.reasons if r.rule == "onsite-deadline"]


def test_a_failing_evaluator_runs_once(base_case):
    import sptui

    calls = []
    src = HOOKIMPL + """
from sptui.policy.schema import Evaluator
def late(policy, ctx):
    CALLS.append(1)
    raise RuntimeError("once")
@hookimpl
def sptui_evaluators(register):
    register(Evaluator("late", 45, late))
"""
    plugin = module("once_plugin", src)
    plugin.CALLS = calls
    pm = PluginManager(entry_points=False, extra=(plugin,))
    d = sptui.load_policy(POLICIES, plugins=pm).decide(base_case)
    assert calls == [1] and [r.rule for r in d.reasons if r.outcome == "error"] == ["late"]
