"""sptui uses Lark through its public API alone (the `lark` package's own names and `lark.exceptions`), and no private
module of the standard library's `re`: a Lark upgrade inside the pinned range cannot break a private name. The
policy language's parser, its error recovery (Lark's interactive parser) and the editor's highlighting (`Lark.lex`
with `dont_ignore`) are all public API."""
from __future__ import annotations

import ast

from conftest import ROOT

PUBLIC = {"lark": {"Lark", "Token", "Transformer"}, "lark.exceptions": None}  # None: any name of the module


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno


def test_only_larks_public_api_and_no_private_re_module():
    wrong = []
    for path in sorted((ROOT / "src" / "sptui").rglob("*.py")):
        for module, names, line in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{line}"
            if module.startswith(("re._", "sre_")) or (module == "re" and any(n.startswith("_") for n in names)):
                wrong.append(f"{where}: the standard library's private {module} {names}")
            if module == "lark" or module.startswith("lark."):
                allowed = PUBLIC.get(module, set())
                if module not in PUBLIC or (allowed is not None and not set(names) <= allowed):
                    wrong.append(f"{where}: from {module} import {', '.join(names)} is not Lark's public API")
    assert not wrong, "\n".join(wrong)


def test_the_editor_lexes_with_larks_public_lex():
    from sptui.policy.parse import parser
    from sptui.tui.widgets.policy_editor import line_tokens

    line = '  require date(at) >= device.purchased_on  # 第1章 4'
    tokens = line_tokens(line)
    assert [t for _, _, t in tokens if not t.startswith("__")][:2] == ["KEY", "KEY"] and tokens[-1][2] == "COMMENT"
    assert tokens == [(t.start_pos, t.end_pos, t.type) for t in parser().lex(line, dont_ignore=True)]
