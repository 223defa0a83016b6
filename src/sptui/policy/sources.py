"""A policy's files: which files a path names (its policy files, its test files), and reading them with what they
include, each parsed into a Module (every problem a Diagnostic: a file that cannot be read, an include cycle)."""
from __future__ import annotations

from pathlib import Path as FsPath
from typing import Iterable

from sptui.errors import FileProblem
from sptui.files import inside, read_text
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
    except (OSError, ValueError, RuntimeError):
        return str(p)


def read_modules(files: list[FsPath], extra_text: dict[str, str] | None = None
                 ) -> tuple[list[Module], list[Diagnostic], dict[str, str]]:
    """Parse the files and, depth first, what they include (each file once; cycles reported). `extra_text`: text
    for a file by its name, read in that file's place (an edit not saved yet: the same order, so the same policy
    as once it is saved), or after the files if it is none of them.

    Each file given and what it includes stay inside that file's folder (the include rule: no absolute path,
    no `..` or link leading out, only regular files of bounded size); an include chain holds at most
    MAX_INCLUDE_DEPTH files and a policy at most MAX_FILES. Anything else is a diagnostic at the include, and
    nothing of a file that is refused is read."""
    reader = _Reader(extra_text or {})
    for f in files:
        reader.visit(f, (), None, f.parent)
    for name, text in (extra_text or {}).items():
        if _resolved(FsPath(name)) not in reader.done:
            reader.visit(FsPath(name), (), None, FsPath(name).parent, text)
    return reader.modules, reader.diags, reader.sources


MAX_INCLUDE_DEPTH = 32  # files in one chain of includes (a includes b includes c …), the first one counted
MAX_FILES = 1000  # files one policy reads, its includes counted (the shipped policy reads 8)


def _resolved(p: FsPath) -> FsPath:
    try:
        return p.resolve()
    except (OSError, ValueError, RuntimeError):
        return p


def _chain(stack: tuple[FsPath, ...], last: FsPath | None = None) -> str:
    names = [display_name(s) for s in (*stack, *((last,) if last is not None else ()))]
    if len(names) > 6:
        names = [*names[:3], "…", *names[-2:]]
    return " → ".join(names)


class _Reader:
    """The modules read so far, in include order, with their diagnostics and text."""

    def __init__(self, extra_text: dict[str, str]):
        self.modules: list[Module] = []
        self.diags: list[Diagnostic] = []
        self.sources: dict[str, str] = {}
        self.done: set[FsPath] = set()
        self.full = False  # MAX_FILES reached (said once)
        self.edited = {_resolved(FsPath(name)): text for name, text in extra_text.items()}

    def visit(self, path: FsPath, stack: tuple[FsPath, ...], at: Span | None, root: FsPath,
              text: str | None = None) -> None:
        """Read the file at `path` (or take `text` for it), which must lie inside `root`, and what it includes,
        unless read already."""
        name = display_name(path)
        key = path
        if text is None:
            try:
                key = FsPath(inside(path, root, name))
            except FileProblem as e:
                return self._unreadable(name, e, at)
            text = self.edited.get(key)
        if key in stack:
            self.diags.append(Diagnostic("E011", f"include cycle: {_chain(stack[stack.index(key):], key)}",
                                         at or Span(name, 1, 1, 1, 1), "remove one of the includes"))
            return
        if key in self.done:
            return
        if len(self.done) >= MAX_FILES:
            if not self.full:
                self.full = True
                self.diags.append(Diagnostic("E012", f"a policy reads at most {MAX_FILES:,} files; `{name}` is one more",
                                             at or Span(name, 1, 1, 1, 1), "put more in each file"))
            return
        self.done.add(key)
        if text is None:
            try:
                text = read_text(key, name=name, within=root)
            except FileProblem as e:
                return self._unreadable(name, e, at)
        self.sources[name] = text
        module, ds = parse_text(text, name)
        self.diags.extend(ds)
        self._includes(module, path, (*stack, key), root)
        self.modules.append(module)

    def _unreadable(self, name: str, e: FileProblem, at: Span | None) -> None:
        self.diags.append(Diagnostic("E010", f"`{name}` {e.reason}", at or Span(name, 1, 1, 1, 1),
                                     _INSIDE if at else "a policy is a folder of .sptp files, or .sptp files"))

    def _includes(self, module: Module, path: FsPath, stack: tuple[FsPath, ...], root: FsPath) -> None:
        for item in module.items:
            if not (isinstance(item, Entry) and item.key == "include"):
                continue
            if len(item.args) != 1 or not (isinstance(item.args[0], Literal) and item.args[0].kind == "string"):
                self.diags.append(Diagnostic("E033", "include takes one file name in quotes", item.key_span,
                                             'include "calendars.sptp"'))
                continue
            target, at = item.args[0].value, item.args[0].span
            if FsPath(target).is_absolute() or target.startswith("~"):
                self.diags.append(Diagnostic("E010", f"`{target}` is an absolute path: an include names a file "
                                             "inside the policy's folder", at, _INSIDE))
            elif len(stack) >= MAX_INCLUDE_DEPTH:
                self.diags.append(Diagnostic("E012", f"includes nest more than {MAX_INCLUDE_DEPTH} files deep: "
                                             f"{_chain(stack, path.parent / target)}", at,
                                             "include the files from fewer levels (one file may include many)"))
            else:
                self.visit(path.parent / target, stack, at, root)


_INSIDE = ("an include names a file inside the policy's folder, relative to the including file "
           '(include "calendars/nec.sptp"); no absolute path, no `..` or link out of the folder')
