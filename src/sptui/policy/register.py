"""The clause register looked up (`sptui clauses [CLAUSE]`): a clause or item in any spelling a person types, its
items, and every block that cites it — where (file:line), from which plugin's files, and through which let."""
from __future__ import annotations

import os
import unicodedata
from typing import Any

from sptui.errors import CaseError
from sptui.policy.ast import ClauseRef


def read_clause(text: str) -> ClauseRef:
    """A clause or item as typed (`第3章 2.2 (19)`, `第3章2.2(19)`, full-width digits, brackets and spaces, `別表1`),
    read as a citation in a policy reads it; CaseError("clause") when it is none."""
    from sptui.policy.parse import parse_text

    norm = unicodedata.normalize("NFKC", text).strip()
    if not norm or "\n" in norm:
        raise CaseError("clause", f"expected a clause such as 第3章 2.2 (19), got {text!r}")
    module, diags = parse_text(f"cite {norm}\n", "<clause>")
    items = module.items
    if diags or len(items) != 1 or len(items[0].args) != 1 or not isinstance(items[0].args[0], ClauseRef):
        raise CaseError("clause", f"expected a clause such as 第3章 2.2 (19), got {text!r}")
    return items[0].args[0]


def _items(clause) -> list[str]:
    items = clause.items
    return [str(i) for i in range(1, items + 1)] if isinstance(items, int) else list(items or ())


def _plugins_by_file(policy) -> dict[str, str]:
    from sptui.policy.compile import variant_files

    try:
        return variant_files(policy.plugins)
    except Exception:  # a policy compiled without a plugin manager
        return {}


def citations(policy) -> list[dict]:
    """Every citation in the policy: clause, item, the citing block (kind, name), file, line, the plugin whose files
    hold it (None: the policy's own) and `via` (the let a block inherits it through; None: cited where it is)."""
    plugins = _plugins_by_file(policy)
    out: list[dict[str, Any]] = []

    def add(ref, owner, span, via=None):
        out.append({"clause": ref.clause, "item": ref.item, "kind": owner[0], "name": owner[1], "file": span.file,
                    "line": span.line, "plugin": plugins.get(os.path.abspath(span.file)), "via": via})

    for ref, owner in policy.rt.citation_refs:
        add(ref, owner, ref.span)
    for owner, found in policy.rt.inherited_cites.items():
        for ref, let, span in found:
            add(ref, owner, span, via=let)
    return out


def clause_rows(policy, only: ClauseRef | None = None) -> list[dict]:
    """The register (or the one clause `only` names), each clause with its title, items, why it is not computable,
    the blocks citing it (`cited_by`: "kind name", each once) and each citation (`citations`, see above; for an
    item, those of the item and those of the whole clause)."""
    every = citations(policy)
    rows = []
    for cid, cl in policy.clauses.items():
        if only is not None and cid != only.clause:
            continue
        cites = [c for c in every if c["clause"] == cid and (only is None or only.item is None
                                                             or c["item"] in (None, only.item))]
        rows.append({"clause": cid, "title": cl.title, "items": _items(cl), "not_computable": cl.not_computable,
                     "file": cl.span.file, "line": cl.span.line,
                     "cited_by": sorted({f"{c['kind']} {c['name']}" for c in cites}), "citations": cites})
    return rows


def unknown_clause(policy, ref: ClauseRef) -> str | None:
    """Why the register cannot answer for `ref` (no such clause, no such item), or None."""
    from sptui.policy.diagnostics import did_you_mean

    clause = policy.clauses.get(ref.clause)
    if clause is None:
        near = did_you_mean(ref.clause, policy.clauses)
        return f"`{ref.clause}` is not in the clause register" + (f"; {near}" if near else "")
    if ref.item is not None and ref.item not in _items(clause):
        have = _items(clause)
        return f"`{ref.clause}` has no item ({ref.item})" + (
            f"; it has ({have[0]})–({have[-1]})" if have else "; it has no items")
    return None
