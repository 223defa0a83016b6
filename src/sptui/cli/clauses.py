"""`sptui clauses [CLAUSE]`: the clause register, or one clause or item in any spelling (`第3章 2.2 (19)`,
`第3章2.2(19)`, full-width digits), with every block that cites it: file:line, the plugin whose files hold it, and
the let a rule inherits it through (sptui.policy.register)."""
from __future__ import annotations


import click

from sptui.cli import main
from sptui.cli.common import load
from sptui.cli.errors import BadInput, say, say_json


def _where(c: dict) -> str:
    via = f" (via let {c['via']})" if c["via"] else ""
    plugin = f" [plugin {c['plugin']}]" if c["plugin"] else ""
    return f"{c['kind']} {c['name']}{via}  {c['file']}:{c['line']}{plugin}"


def _lines(row: dict, item: str | None, every_item: bool) -> list[str]:
    """A clause in words: its title and items, then who cites each item (every item with `every_item`, else the
    cited ones; `item` alone when one was asked for), then who cites the whole clause."""
    items = row["items"]
    head = f"{row['clause']}  {row['title']}" + (f"  (items ({items[0]})–({items[-1]}))" if items else "")
    out = [head]
    if row["not_computable"]:
        out.append(f"    not computable: {row['not_computable']}")
    whole = [c for c in row["citations"] if c["item"] is None]
    shown_items = ([item] if item is not None else items if every_item else
                   [i for i in items if any(c["item"] == i for c in row["citations"])])
    for i in shown_items:
        cites = [c for c in row["citations"] if c["item"] == i]
        out.append(f"  ({i})" + ("" if cites else "  cited by no block"))
        out += [f"      ← {_where(c)}" for c in cites]
    if whole:
        if shown_items:
            out.append("  the whole clause:")
        out += [f"    ← {_where(c)}" for c in whole]
    return out


@main.command()
@click.argument("clause", required=False)
@click.option("--policy", "policy_path", default=None, help="the policy folder (default: the shipped policies/)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def clauses(clause, policy_path, fmt):
    """The clause register, or one clause or item (any spelling: `第3章 2.2 (19)`, `第3章2.2(19)`), and for each
    the blocks that cite it, with file:line, plugin, and the let a rule inherits it through."""
    from sptui.errors import CaseError
    from sptui.policy.register import clause_rows, read_clause, unknown_clause

    ref = None
    if clause is not None:
        try:
            ref = read_clause(clause)
        except CaseError as e:
            raise BadInput(e.message) from None
    policy = load(policy_path)
    if ref is not None and (why := unknown_clause(policy, ref)):
        raise BadInput(why)
    rows = clause_rows(policy, ref)
    if fmt == "json":
        out = rows[0] if ref is not None else rows
        if ref is not None:
            out = dict(out, item=ref.item)
        say_json(out)
        return
    for r in rows:
        for line in _lines(r, ref.item if ref is not None else None, every_item=ref is not None):
            say(line)
