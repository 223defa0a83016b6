"""A policy's files: which files a path names (its policy files, its test files), and reading them with what they
include, each parsed into a Module (every problem a Diagnostic: a file that cannot be read, an include cycle)."""
from __future__ import annotations

from pathlib import Path as FsPath
from typing import Iterable

from sptui.errors import FileProblem
from sptui.files import read_text
from sptui.policy.ast import Entry, Literal, Module, Span
from sptui.policy.diagnostics import Diagnostic
from sptui.policy.parse import parse_text

EXT = ".sptp"
TEST_SUFFIX = "_test.sptp"


def policy_files(paths: Iterable[str | FsPath]) -> list[FsPath]:
    """The policy's own files under the given paths: every .sptp that is not a test file."""
    out: list[FsPath] = []
    for p in map(FsPath, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.glob(f"*{EXT}") if not f.name.endswith(TEST_SUFFIX)))
        else:
            out.append(p)
    return out


def test_files(paths: Iterable[str | FsPath]) -> list[FsPath]:
    out: list[FsPath] = []
    for p in map(FsPath, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob(f"*{TEST_SUFFIX}")))
        elif p.name.endswith(TEST_SUFFIX):
            out.append(p)
    return out


def display_name(p: FsPath) -> str:
    try:
        return str(p.resolve().relative_to(FsPath.cwd()))
    except ValueError:
        return str(p)


def read_modules(files: list[FsPath], extra_text: dict[str, str] | None = None
                 ) -> tuple[list[Module], list[Diagnostic], dict[str, str]]:
    """Parse the files and, depth first, what they include (each file once; cycles reported). `extra_text`: text
    for a file by its name, read in that file's place (an edit not saved yet: the same order, so the same policy
    as once it is saved), or after the files if it is none of them."""
    reader = _Reader(extra_text or {})
    for f in files:
        reader.visit(f, (), None)
    for name, text in (extra_text or {}).items():
        if FsPath(name).resolve() not in reader.done:
            reader.visit(FsPath(name), (), None, text)
    return reader.modules, reader.diags, reader.sources


class _Reader:
    """The modules read so far, in include order, with their diagnostics and text."""

    def __init__(self, extra_text: dict[str, str]):
        self.modules: list[Module] = []
        self.diags: list[Diagnostic] = []
        self.sources: dict[str, str] = {}
        self.done: set[FsPath] = set()
        self.edited = {FsPath(name).resolve(): text for name, text in extra_text.items()}

    def visit(self, path: FsPath, stack: tuple[FsPath, ...], at: Span | None, text: str | None = None) -> None:
        """Read the file at `path` (or take `text` for it) and what it includes, unless read already."""
        key = path.resolve() if text is None else path
        if text is None:
            text = self.edited.get(key)
        if key in stack:
            chain = " → ".join(display_name(s) for s in (*stack, key)[stack.index(key):])
            self.diags.append(Diagnostic("E011", f"include cycle: {chain}", at or Span(display_name(path), 1, 1, 1, 1),
                                         "remove one of the includes"))
            return
        if key in self.done:
            return
        self.done.add(key)
        name = display_name(path)
        if text is None:
            try:
                text = read_text(path, name=name)
            except FileProblem as e:
                self.diags.append(Diagnostic("E010", f"`{name}` {e.reason}", at or Span(name, 1, 1, 1, 1),
                                             "paths in include are relative to the including file" if at else
                                             "a policy is a folder of .sptp files, or .sptp files"))
                return
        self.sources[name] = text
        module, ds = parse_text(text, name)
        self.diags.extend(ds)
        self._includes(module, path, (*stack, key))
        self.modules.append(module)

    def _includes(self, module: Module, path: FsPath, stack: tuple[FsPath, ...]) -> None:
        for item in module.items:
            if isinstance(item, Entry) and item.key == "include":
                if len(item.args) != 1 or not (isinstance(item.args[0], Literal) and item.args[0].kind == "string"):
                    self.diags.append(Diagnostic("E033", "include takes one file name in quotes", item.key_span,
                                                 'include "calendars.sptp"'))
                    continue
                self.visit(path.parent / item.args[0].value, stack, item.args[0].span)
