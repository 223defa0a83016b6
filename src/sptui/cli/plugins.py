"""`sptui plugins` (what is installed, from metadata; `-v` loads them) and `sptui plugin new NAME` (a working
plugin package, from the templates below)."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import click

from sptui.cli import main
from sptui.cli.common import load
from sptui.cli.errors import BadInput, Commands, say, say_lines
from sptui.config import default_policy
from sptui.files import FileProblem, write_file


def _entry_points() -> list[dict]:
    """The installed plugins as their metadata says, without importing any of them."""
    import importlib.metadata as md

    from sptui.plugins.manager import _split_env

    disabled = _split_env("SPTUI_DISABLE_PLUGINS") or set()
    only = _split_env("SPTUI_LOAD_PLUGINS")
    out: list[dict] = []
    names: dict[str, str] = {}
    for ep in md.entry_points(group="sptui"):
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        problem = None
        top = ep.module.split(".")[0]
        try:  # the top-level package only: finding it reads the file system, it runs nothing
            found = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            problem = f"no module named {top!r} is installed"
        elif ep.name in names:
            problem = f"the name {ep.name!r} is taken by {names[ep.name]} too"
        names.setdefault(ep.name, dist)
        state = "disabled" if ep.name in disabled or (only is not None and ep.name not in only) else None
        out.append({"name": ep.name, "version": version, "dist": dist, "target": ep.value, "state": state,
                    "problem": problem})
    return out


@main.command(reads_only=True)
@click.option("--verbose", "-v", is_flag=True,
              help="load the plugins: show each one's hooks, and every failure with its traceback")
def plugins(verbose):
    """The plugins, built-in and installed. Without -v it reads their metadata and imports none of them
    (a plugin that would fail shows only when loaded: use -v)."""
    from sptui.plugins.manager import BUILTINS, _own_version, _split_env

    if not verbose:
        disabled = _split_env("SPTUI_DISABLE_PLUGINS") or set()
        for name in BUILTINS:
            say(f"{name} {_own_version()} (built-in)" + (" [disabled]" if name in disabled else ""))
        for p in _entry_points():
            line = f"{p['name']} {p['version']} (installed: {p['dist']} → {p['target']})"
            if p["state"]:
                line += f" [{p['state']}]"
            say(line)
            if p["problem"]:
                say(f"FAILED {p['name']} [metadata]: {p['problem']}")
        say("(not loaded; `sptui plugins -v` loads them, shows their hooks and any failure)", err=True)
        return
    from sptui.plugins.manager import HOOKS, PluginManager
    from sptui import PolicyError, load_policy

    pm = PluginManager()
    pm.check_names()
    try:  # a variant pack's policy files: read with the policy, as a decision would (failures: stage policy)
        load_policy(default_policy(), plugins=pm)
    except PolicyError as e:
        say(f"note: the policy itself has {sum(d.is_error for d in e.diagnostics)} error(s); "
                   "plugins' policy files were not checked (sptui check)", err=True)
    targets = {p["name"]: p for p in _entry_points()}
    for info in pm.infos:
        origin = "built-in" if info.builtin else "installed"
        if info.name in targets:
            origin += f": {targets[info.name]['dist']} → {targets[info.name]['target']}"
        say(f"{info.name} {info.version} ({origin})")
        say(f"    hooks: {', '.join(info.hooks) or '—'}")
        for hook in HOOKS:
            got = [pm.name_of(o) for p, o in pm.registered(hook) if p == info.name]
            if got:
                say(f"    {hook.removeprefix('sptui_')}: {', '.join(got)}")
    for f in pm.failures:
        say(f"FAILED {f.plugin} [{f.stage}]: {f.error}")
        if f.detail:
            say_lines("    " + f.detail.strip().replace("\n", "\n    "))
    if pm.failures:
        sys.exit(1)


# ---- sptui plugin new -------------------------------------------------------------------------------------------
@main.group(cls=Commands)
def plugin():
    """Write plugins: `sptui plugin new NAME`."""


NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
RESERVED = frozenset({"and", "false", "in", "let", "not", "null", "or", "true"})  # the policy language's words

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "sptui-{name}"
version = "0.1.0"
description = "sptui pack variant {name}"
requires-python = ">=3.11"
dependencies = ["sptui"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.sptui]
{name} = "{module}"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
{module} = ["*.sptp"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

MODULE = '''\
"""sptui-{name}: the pack variant `{name}` (its policy file is {name}.sptp, beside this module)."""
from __future__ import annotations

from pathlib import Path

from sptui.plugins.api import VariantPack, hookimpl

__version__ = "0.1.0"
POLICY = Path(__file__).resolve().parent / "{name}.sptp"


@hookimpl
def sptui_variants(register):
    register(VariantPack("{name}", (str(POLICY),), years=(1, 3, 5), doc="{name}: Mon–Fri 08:30–17:30"))
'''

POLICY = '''\
# The variant `{name}`: read with the shipped policy, so it cites the shipped clause register and may
# use its calendars (nec-holidays). Change the hours, then the test, and run: pytest
variant {name} {{
  cite 第1章 3
  title-ja "{name}"
  title-en "{name}"
  years 1, 3, 5
  reception always
  hours hw {{
    days mon-fri
    window 08:30-17:30
  }}
  hours pp {{
    days mon-fri
    window 08:30-17:30
    closed nec-holidays
  }}
}}
'''

TEST = '''\
"""The variant `{name}`, loaded with the shipped policy (sptui.testing's fixtures)."""
import {module}


def test_a_tuesday_morning_call_is_inside_the_hours(sptui_policy_with, sptui_case):
    policy = sptui_policy_with({module})
    case = sptui_case(at="2026-12-01T10:00:00+09:00", **{{"pack.variant": "{name}", "pack.years": 3}})
    decision = policy.decide(case)
    assert decision.verdict == "covered"
    assert decision.in_service_hours is True
'''

README = '''\
# sptui-{name}

A sptui plugin: the pack variant `{name}`.

    pip install -e '.[test]'   # into the environment sptui runs in (with pytest)
    pytest                     # its tests, with sptui.testing's fixtures
    sptui plugins -v      # shows it, with its hooks
    sptui check           # checks the shipped policy with the variant's file

The variant is defined in `src/{module}/{name}.sptp`; docs/plugins.md in sptui explains every hook.
'''


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "where", default=".", type=click.Path(file_okay=False), help="where to write sptui-NAME/")
def plugin_new(name, where):
    """Write a working plugin package sptui-NAME/ (a pack variant, with one passing test)."""
    if not NAME.fullmatch(name) or len(name) > 64:
        shown_name = repr(name) if len(name) <= 70 else repr(name[:64]) + "…"
        raise BadInput(f"{shown_name} is not a plugin name: at most 64 lower-case letters, digits and hyphens, "
                       "starting with a letter (like night-owl)")
    if name in RESERVED:
        raise BadInput(f"{name!r} is a word of the policy language; a variant cannot be named so")
    taken = load().rt.variants
    if name in taken:
        raise BadInput(f"the policy has a variant {name!r} already (it has {', '.join(sorted(taken))})")
    module = "sptui_" + name.replace("-", "_")
    root = Path(where) / f"sptui-{name}"
    if root.exists():
        raise BadInput(f"{root} exists already; choose another name or --dir")
    files = {
        "pyproject.toml": PYPROJECT, "README.md": README, f"src/{module}/__init__.py": MODULE,
        f"src/{module}/{name}.sptp": POLICY, "tests/conftest.py": 'pytest_plugins = ["sptui.testing"]\n',
        f"tests/test_{module.removeprefix('sptui_')}.py": TEST,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_file(path, text.format(name=name, module=module), replace=False)
        except FileProblem as e:
            raise BadInput(str(e)) from None
        say(f"wrote {path}")
    say(f"next: cd {root} && pip install -e '.[test]' && pytest")
