"""A fast driver over Lark's own analysed LALR table, for text without syntax errors.

Lark's parser runtime spends most of its time on bookkeeping per token: a generator per lexer call, a
Rule hashed for every reduction (`callbacks[rule]`), attribute look-ups on the parser state. This driver
runs the same machine in one tight loop over data prepared once from the Lark instance:

* the lexer: per parser state, the compiled alternation regex of that state's contextual lexer (Lark's
  own Scanner, so the same terminals in the same order), its ignored and newline terminals, and the
  keyword table of its UnlessCallback (`and` is `_AND`, not `KEY`);
* the parser: per state, the table's actions with every reduction pre-resolved to (size, callback,
  origin), and the goto table; a reduction of one child whose callback only unwraps it (`?rule: x`) moves
  the state without touching the value stack;
* the callbacks: Lark's child filter around each rule's builder becomes one generated function per rule
  that keeps, splices and pads the children as the filter does, and an inlined rule (`_item`, `x*`)
  gives the plain list of its children instead of a Tree (about a tenth of the parse of a large policy);
* the tables are lists indexed by state, keyed by plain str (a freshly built Lark names symbols by Tokens).

Nothing about the grammar is written here: terminals, table and callbacks all come from the Lark
instance. The driver handles only the happy path. At the first sign of trouble (a character no terminal
of the state matches, a token with no action, a structure it does not know), `parse` returns FAIL and the
caller parses with Lark itself, whose error reporting and recovery are then exactly as before.
"""
from __future__ import annotations

import functools
from typing import Any

from lark import Lark, Token

FAIL = object()  # parse() could not finish: parse with Lark instead


class _Unsupported(Exception):
    """The Lark instance uses something this driver does not reproduce; Lark parses everything."""


def _first_char(seq, flags: int):
    """(test, may be empty) for a parsed regex: test(c) is False only if no match can start with c.

    A conservative reading of the regex (anything not understood may start with any character), so
    leaving out the terminals whose test says False never changes which alternative matches first.
    """
    from re import _constants as C

    def any_char(c: str) -> bool:
        return True

    if flags & (C.SRE_FLAG_IGNORECASE | C.SRE_FLAG_LOCALE | C.SRE_FLAG_ASCII):
        return any_char, False
    categories = {C.CATEGORY_DIGIT: str.isdecimal, C.CATEGORY_SPACE: str.isspace,
                  C.CATEGORY_WORD: lambda c: c.isalnum() or c == "_"}
    tests = []
    for op, av in seq:
        if op is C.LITERAL:
            tests.append(lambda c, ch=chr(av): c == ch)
            empty = False
        elif op is C.IN:
            chars, funcs, negate, exact = set(), [], False, True
            for kind, arg in av:
                if kind is C.NEGATE:
                    negate = True
                elif kind is C.LITERAL:
                    chars.add(chr(arg))
                elif kind is C.RANGE and arg[1] - arg[0] < 4096:
                    chars.update(map(chr, range(arg[0], arg[1] + 1)))
                elif kind is C.CATEGORY and arg in categories:
                    funcs.append(categories[arg])
                else:
                    exact = False
            if not exact or (negate and funcs):
                return any_char, False
            if negate:
                tests.append(lambda c, chars=frozenset(chars): c not in chars)
            else:
                tests.append(lambda c, chars=frozenset(chars), funcs=tuple(funcs):
                             c in chars or any(f(c) for f in funcs))
            empty = False
        elif op is C.BRANCH:
            parts = [_first_char(alt, flags) for alt in av[1]]
            tests.extend(t for t, _ in parts)
            empty = any(e for _, e in parts)
        elif op is C.SUBPATTERN:
            if av[1] & (C.SRE_FLAG_IGNORECASE | C.SRE_FLAG_LOCALE | C.SRE_FLAG_ASCII):
                return any_char, False
            test, empty = _first_char(av[3], flags)
            tests.append(test)
        elif op is C.ATOMIC_GROUP:
            test, empty = _first_char(av, flags)
            tests.append(test)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            test, empty = _first_char(av[2], flags)
            tests.append(test)
            empty = empty or av[0] == 0
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            empty = True  # zero width: what follows starts the match
        else:
            return any_char, False
        if not empty:
            tests = tuple(tests)
            return (lambda c: any(t(c) for t in tests)), False
    tests = tuple(tests)
    return (lambda c: any(t(c) for t in tests)), True


@functools.lru_cache(maxsize=None)  # the lexer states share most terminals: each regexp is read once
def _starts(regexp: str, flags: int):
    """test(c): False only if no match of the regexp can start with the character c."""
    from re import _parser as sre_parse

    parsed = sre_parse.parse(regexp, flags)
    test, empty = _first_char(parsed, parsed.state.flags | flags)
    return (lambda c: True) if empty else test


def _first_chars(regexp: str, flags: int) -> frozenset[str] | None:
    """Every character a match of the regexp can start with, for a simple one like [\\t \\f]+; else None."""
    from re import _constants as C
    from re import _parser as sre_parse

    parsed = sre_parse.parse(regexp, flags)
    if (parsed.state.flags | flags) & (C.SRE_FLAG_IGNORECASE | C.SRE_FLAG_LOCALE | C.SRE_FLAG_ASCII) or not parsed:
        return None
    op, av = parsed[0]
    if op in (C.MAX_REPEAT, C.POSSESSIVE_REPEAT) and av[0] >= 1 and av[2]:
        op, av = av[2][0]
    if op is C.LITERAL:
        return frozenset(chr(av))
    if op is C.IN and all(kind in (C.LITERAL, C.RANGE) for kind, _ in av):
        chars: set[str] = set()
        for kind, arg in av:
            if kind is C.LITERAL:
                chars.add(chr(arg))
            elif arg[1] - arg[0] < 256:
                chars.update(map(chr, range(arg[0], arg[1] + 1)))
            else:
                return None
        return frozenset(chars)
    return None


def _skippable(conf) -> str | None:
    """The regexp of an ignored terminal (whitespace) that every token's match may swallow after it.

    Lark matches such a run as a token of its own and drops it. Swallowing it with the token gives the same
    result when no other terminal of the grammar can start with a character the run can start with (so in
    any state, Lark's lexer would match the run there), and when the run has no newline (so the line count
    is unchanged) and no group of its own (so the match's last group stays the token's)."""
    from re import _parser as sre_parse

    from lark.lexer import _regexp_has_newline

    flags = conf.g_regex_flags
    for name in conf.ignore:
        ign = conf.terminals_by_name.get(name)
        if ign is None:
            continue
        regexp = ign.pattern.to_regexp()
        chars = _first_chars(regexp, flags)
        if chars is None or _regexp_has_newline(regexp) or sre_parse.parse(regexp, flags).state.groups > 1:
            continue
        others = [_starts(t.pattern.to_regexp(), flags) for t in conf.terminals if t.name != name]
        if not any(test(c) for test in others for c in chars):
            return regexp
    return None


class _Lexer:
    """One of Lark's BasicLexers, dispatched on the first character: for each character, the
    alternation of only those of its terminals (in Lark's order) that can start with it."""

    __slots__ = ("terminals", "tests", "flags", "re", "use_bytes", "by_char", "by_names", "ignore", "newline",
                 "keywords", "skip")

    def __init__(self, lexer, skip: str | None):
        from lark.lexer import UnlessCallback

        scanner = lexer.scanner  # builds Lark's scanner and callbacks if not built yet
        if scanner.use_bytes:
            raise _Unsupported("a lexer over bytes")
        if set(lexer.callback) & set(lexer.ignore_types):
            raise _Unsupported("a callback on an ignored terminal")
        if lexer.callback and scanner.g_regex_flags:
            raise _Unsupported("keywords under global regex flags")
        self.keywords: dict[str, dict[str, str]] = {}
        for type_, cb in lexer.callback.items():
            if type(cb) is not UnlessCallback:
                raise _Unsupported(f"a lexer callback on {type_}")
            table = {}
            for t in cb.scanner.terminals:
                if t.pattern.type != "str" or t.pattern.flags:
                    raise _Unsupported(f"a keyword terminal {t.name} that is not a plain string")
                table.setdefault(t.pattern.value, t.name)  # the scanner's first alternative wins, as in Lark
            self.keywords[type_] = table
        self.terminals = scanner.terminals
        self.flags, self.re, self.use_bytes = scanner.g_regex_flags, scanner.re_, scanner.use_bytes
        self.tests = [_starts(t.pattern.to_regexp(), self.flags) for t in self.terminals]
        self.skip = skip
        self.by_char: dict[str, Any] = {}
        self.by_names: dict[tuple, Any] = {}
        self.ignore, self.newline = lexer.ignore_types, lexer.newline_types

    def matcher(self, c: str):
        """The match function for text whose next character is c (built on first use, then cached)."""
        from lark.lexer import Scanner

        names = tuple(i for i, test in enumerate(self.tests) if test(c))
        fn = self.by_names.get(names)
        if fn is None:
            if names:
                scanner = Scanner([self.terminals[i] for i in names], self.flags, self.re, self.use_bytes)
                if len(scanner._mres) != 1:
                    raise _Unsupported("a scanner split over several regexes")
                fn = scanner._mres[0].match
                if self.skip is not None:  # the token, then the whitespace after it (see _skippable)
                    fn = self.re.compile(f"(?:{scanner._mres[0].pattern})(?>{self.skip})?", self.flags).match
            else:
                def fn(text, pos):
                    return None
            self.by_names[names] = fn
        self.by_char[c] = fn
        return fn


def _same(children: list) -> list:
    """The value of an inlined rule (`_item`, and Lark's `__x_star_n` for `x*`): its children as a plain list,
    which the parent's filter splices into its own (where Lark's filters read the `.children` of a Tree)."""
    return children


def _filter_source(to_include, append_none: int, inline: bool = False) -> str:
    """Python source of `_filter(c)` doing what Lark's LALR child filter with these entries does: keep the
    children at the included indexes, splice in those to expand (each a list: see _same), put None where an
    optional part is missing. Then `build(f)`, or for an inlined rule (`inline`) the list itself."""
    body, run = [], []  # `run`: items of a list display not yet written
    first = True

    def flush(extend: bool) -> None:
        nonlocal first
        if run:
            body.append(f"    f {'+=' if extend else '='} [{', '.join(run)}]")
            run.clear()
            first = False

    for i, expand, add_none in to_include:
        run.extend(["None"] * add_none)
        if not expand:
            run.append(f"c[{i}]")
            continue
        if first and not run:  # as Lark does for left recursion (`x*`): go on with the child's own list
            body.append(f"    f = c[{i}]")
            first = False
        else:
            flush(extend=not first)
            body.append(f"    f += c[{i}]")
    run.extend(["None"] * append_none)
    flush(extend=not first)
    if first:
        body.append("    f = []")
    return "def _filter(c):\n" + "\n".join(body) + ("\n    return f\n" if inline else "\n    return build(f)\n")


def _builds_tree(f) -> bool:
    """Whether `f` is Lark's default node builder (a rule without a transformer method: a Tree of its children)."""
    return isinstance(f, functools.partial) and getattr(f.func, "__name__", "") == "default_callback"


def _fast_callback(cb, origin: str):
    """A callback doing what Lark's `cb` does, in one call: Lark's LALR child filter around a node builder
    becomes a generated filter (see _filter_source); an inlined rule gives the list of its children instead of
    a Tree (see _same). Any other callback is Lark's own, unchanged."""
    from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders

    kind = type(cb)
    if kind is ChildFilterLALR:
        to_include, append_none, build = tuple(cb.to_include), cb.append_none, cb.node_builder
    elif kind is ChildFilterLALR_NoPlaceholders:
        to_include, append_none, build = tuple((i, x, 0) for i, x in cb.to_include), 0, cb.node_builder
    elif _builds_tree(cb):
        to_include, append_none, build = None, 0, cb  # a rule with nothing to filter: the Tree of its children
    else:
        to_include, append_none, build = None, 0, None
    inline = origin.startswith("_")  # only ever spliced into its parent (Lark expands every rule named _x)
    if inline and not _builds_tree(build):
        raise _Unsupported(f"the inlined rule {origin} has a callback of its own")
    if build is None:
        return cb
    if to_include is None:
        return _same if inline else build
    ns: dict[str, Any] = {"build": build}  # the node builder as a global of the generated function
    exec(_filter_source(to_include, append_none, inline), ns)
    return ns["_filter"]


class Driver:
    """The happy-path parser for one Lark instance (LALR, contextual lexer, no postlex)."""

    def __init__(self, lark: Lark):
        from lark.lexer import ContextualLexer
        from lark.parse_tree_builder import ExpandSingleChild
        from lark.parsers.lalr_analysis import Shift

        front = lark.parser
        if lark.options.parser != "lalr" or not isinstance(front.lexer, ContextualLexer) or lark.options.postlex:
            raise _Unsupported("not LALR with the contextual lexer")
        if lark.options.propagate_positions or lark.options.keep_all_tokens:
            raise _Unsupported("options the driver does not reproduce")
        if len(front.parser_conf.start) != 1:
            raise _Unsupported("several start symbols")
        start = front.parser_conf.start[0]
        inner = front.parser.parser
        table, callbacks = inner.parse_table, inner.callbacks
        if any(isinstance(k, str) for k in callbacks):
            raise _Unsupported("terminal callbacks in the parser")
        self.start_state = table.start_states[start]
        self.end_state = table.end_states[start]

        skip = _skippable(front.lexer_conf)
        by_lexer: dict[int, _Lexer] = {}
        for lexer in front.lexer.lexers.values():
            if id(lexer) not in by_lexer:
                by_lexer[id(lexer)] = _Lexer(lexer, skip)
        lexers = {state: by_lexer[id(lexer)] for state, lexer in front.lexer.lexers.items()}

        # terminals no callback ever sees (`_NL`, `_COMMA` …): they need no Token on the value stack
        used: set[str] = set()
        rules = set()
        actions: dict[int, dict[str, Any]] = {}
        gotos: dict[int, dict[str, int]] = {}
        unwraps: dict[tuple[int, str], str] = {}
        faster: dict[Any, Any] = {}  # rule -> its callback as _fast_callback makes it (once per rule)
        for state, row in table.states.items():
            acts, goto = {}, {}
            for sym, (action, arg) in row.items():
                sym = str(sym)  # a plain str: a fresh Lark names symbols by Tokens, whose == is Python code
                if action is Shift:
                    if sym.isupper() or sym.startswith("$"):
                        acts[sym] = arg  # an int: shift to that state
                    else:
                        goto[sym] = arg
                else:
                    rule = arg
                    rules.add(rule)
                    origin = str(rule.origin.name)  # as sym
                    cb = callbacks[rule]
                    size = len(rule.expansion)
                    if size == 1 and type(cb) is ExpandSingleChild:
                        # `?rule: x` with one child: the value stays, only the state changes (see _unwrap)
                        acts[sym] = {}
                        unwraps[(state, sym)] = origin
                    else:
                        fast = faster.get(rule)
                        if fast is None:
                            fast = faster[rule] = _fast_callback(cb, origin)
                        acts[sym] = (size, fast, origin)
            actions[state] = acts
            gotos[state] = goto
        for rule in rules:
            for sym in rule.expansion:
                if sym.is_term and not (sym.filter_out and not rule.options.keep_all_tokens):
                    used.add(sym.name)
        # lists indexed by state (Lark numbers its states 0…n-1): a list index is quicker than a dict's
        states = range(len(actions))
        if sorted(actions) != list(states) or set(lexers) != set(actions):
            raise _Unsupported("parser states that are not numbered 0…n-1")
        self.actions = [actions[i] for i in states]
        self.gotos = [gotos[i] for i in states]
        self.lexers = [lexers[i] for i in states]
        self.unwraps = unwraps
        self.used_terminals = frozenset(used)

    def _unwrap(self, state: int, below: int, type_: str) -> int:
        """The state after the run of one-child `?rule` reductions that `type_` causes in `state`, with
        `below` under it on the stack. Each such reduction pops `state` and pushes the goto from `below`,
        so `below` stays and the whole run depends only on (state, below, type_); it is cached in the
        action's dict. The run stops at the end state, or where the next action is something else."""
        chain = self.actions[state][type_]
        while (state, type_) in self.unwraps and state != self.end_state:
            state = self.gotos[below][self.unwraps[(state, type_)]]
        chain[below] = state
        return state

    def parse(self, text: str) -> Any:
        """The parse result (what the start rule's callback returns), or FAIL."""
        try:
            return self._parse(text)
        except Exception:  # anything unexpected: Lark parses, and reports it its own way
            return FAIL

    def _parse(self, text: str) -> Any:
        lexers, actions, gotos, used = self.lexers, self.actions, self.gotos, self.used_terminals
        end_state = self.end_state
        new = str.__new__
        state = self.start_state
        states = [state]
        values: list = []
        pos, line, line_start, n = 0, 1, 0, len(text)
        tok = None
        while True:
            # ---- the next token, lexed for the current state -----------------------------------------------
            if pos < n:
                lexer = lexers[state]
                c = text[pos]
                match = lexer.by_char.get(c)
                if match is None:
                    match = lexer.matcher(c)
                m = match(text, pos)
                if m is None:
                    return FAIL
                type_ = m.lastgroup
                if type_ in lexer.ignore:
                    if type_ in lexer.newline:
                        value = m[type_]
                        nl = value.count("\n")
                        if nl:
                            line += nl
                            line_start = pos + value.rindex("\n") + 1
                    pos = m.end()
                    continue
                value = m[type_]
                end = m.end(type_)
                if lexer.keywords:
                    kw = lexer.keywords.get(type_)
                    if kw is not None:
                        type_ = kw.get(value, type_)
                column = pos - line_start + 1
                start_line = line
                if type_ in lexer.newline:
                    nl = value.count("\n")
                    if nl:
                        line += nl
                        line_start = pos + value.rindex("\n") + 1
                if type_ in used:
                    tok = new(Token, value)
                    tok.type = type_  # (not start_pos and end_pos: only Lark's error reporting reads them)
                    tok.value = value
                    tok.line = start_line
                    tok.column = column
                    tok.end_line = line
                    tok.end_column = end - line_start + 1
                else:
                    tok = None
                pos = m.end()  # past the whitespace after the token, if the match took it
                is_end = False
            else:
                type_ = "$END"
                is_end = True
            # ---- feed it: reduce as the table says, then shift ------------------------------------------------
            while True:
                act = actions[state].get(type_)
                if act is None:
                    return FAIL
                if act.__class__ is int:
                    if is_end:
                        return FAIL
                    state = act
                    states.append(state)
                    values.append(tok)
                    break
                if act.__class__ is dict:  # one-child `?rule` reductions: only the state changes
                    state = act.get(states[-2])
                    if state is None:
                        state = self._unwrap(states[-1], states[-2], type_)
                    states[-1] = state
                else:
                    size, cb, origin = act
                    if size == 1:
                        s = [values.pop()]
                        states.pop()
                    elif size:
                        s = values[-size:]
                        del states[-size:]
                        del values[-size:]
                    else:
                        s = []
                    values.append(cb(s))
                    state = gotos[states[-1]][origin]
                    states.append(state)
                if is_end and state == end_state:
                    return values[-1]
