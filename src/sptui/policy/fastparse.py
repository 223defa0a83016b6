"""A fast driver over Lark's own analysed LALR table, for text without syntax errors.

Lark's parser runtime spends most of its time on bookkeeping per token: a generator per lexer call, a
Rule hashed for every reduction (`callbacks[rule]`), attribute look-ups on the parser state. This driver
runs the same machine in one tight loop over data prepared once from the Lark instance:

* the lexer: per parser state, the compiled alternation regex of that state's contextual lexer (Lark's
  own Scanner, so the same terminals in the same order), its ignored and newline terminals, and the
  keyword table of its UnlessCallback (`and` is `_AND`, not `KEY`);
* the parser: per state, the table's actions with every reduction pre-resolved to (size, callback,
  origin), and the goto table; a reduction of one child whose callback only unwraps it (`?rule: x`) moves
  the state without touching the value stack.

Nothing about the grammar is written here: terminals, table and callbacks all come from the Lark
instance. The driver handles only the happy path. At the first sign of trouble (a character no terminal
of the state matches, a token with no action, a structure it does not know), `parse` returns FAIL and the
caller parses with Lark itself, whose error reporting and recovery are then exactly as before.
"""
from __future__ import annotations

from typing import Any

from lark import Lark, Token

FAIL = object()  # parse() could not finish: parse with Lark instead


class _Unsupported(Exception):
    """The Lark instance uses something this driver does not reproduce; Lark parses everything."""


def _lexer_of(lexer) -> tuple:
    """(match, ignore types, newline types, keywords by terminal) for one of Lark's BasicLexers."""
    from lark.lexer import UnlessCallback

    scanner = lexer.scanner  # builds Lark's scanner and callbacks if not built yet
    if len(scanner._mres) != 1:
        raise _Unsupported("a scanner split over several regexes")
    keywords: dict[str, dict[str, str]] = {}
    for type_, cb in lexer.callback.items():
        if type(cb) is not UnlessCallback:
            raise _Unsupported(f"a lexer callback on {type_}")
        table = {}
        for t in cb.scanner.terminals:
            if t.pattern.type != "str" or t.pattern.flags:
                raise _Unsupported(f"a keyword terminal {t.name} that is not a plain string")
            table.setdefault(t.pattern.value, t.name)  # the scanner's first alternative wins, as in Lark
        keywords[type_] = table
    return scanner._mres[0].match, lexer.ignore_types, lexer.newline_types, keywords


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

        lexers: dict[int, tuple] = {}
        by_lexer: dict[int, tuple] = {}
        for state, lexer in front.lexer.lexers.items():
            if id(lexer) not in by_lexer:
                by_lexer[id(lexer)] = _lexer_of(lexer)
            lexers[state] = by_lexer[id(lexer)]
        self.lexers = lexers

        # terminals no callback ever sees (`_NL`, `_COMMA` …): they need no Token on the value stack
        used: set[str] = set()
        rules = set()
        actions: dict[int, dict[str, Any]] = {}
        gotos: dict[int, dict[str, int]] = {}
        for state, row in table.states.items():
            acts, goto = {}, {}
            for sym, (action, arg) in row.items():
                if action is Shift:
                    if sym.isupper() or sym.startswith("$"):
                        acts[sym] = arg  # an int: shift to that state
                    else:
                        goto[sym] = arg
                else:
                    rule = arg
                    rules.add(rule)
                    cb = callbacks[rule]
                    size = len(rule.expansion)
                    unwrap = size == 1 and type(cb) is ExpandSingleChild
                    acts[sym] = (size, None if unwrap else cb, rule.origin.name)
            actions[state] = acts
            gotos[state] = goto
        for rule in rules:
            for sym in rule.expansion:
                if sym.is_term and not (sym.filter_out and not rule.options.keep_all_tokens):
                    used.add(sym.name)
        self.actions, self.gotos = actions, gotos
        self.used_terminals = frozenset(used)

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
                match, ignore, newline, keywords = lexers[state]
                m = match(text, pos)
                if m is None:
                    return FAIL
                type_ = m.lastgroup
                end = m.end()
                if type_ in ignore:
                    if type_ in newline:
                        value = m.group()
                        nl = value.count("\n")
                        if nl:
                            line += nl
                            line_start = pos + value.rindex("\n") + 1
                    pos = end
                    continue
                value = m.group()
                if keywords:
                    kw = keywords.get(type_)
                    if kw is not None:
                        type_ = kw.get(value, type_)
                column = pos - line_start + 1
                start_line = line
                if type_ in newline:
                    nl = value.count("\n")
                    if nl:
                        line += nl
                        line_start = pos + value.rindex("\n") + 1
                if type_ in used:
                    tok = new(Token, value)
                    tok.type = type_
                    tok.value = value
                    tok.start_pos = pos
                    tok.line = start_line
                    tok.column = column
                    tok.end_line = line
                    tok.end_column = end - line_start + 1
                    tok.end_pos = end
                else:
                    tok = None
                pos = end
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
                size, cb, origin = act
                if cb is None:  # `?rule: x` with one child: the value stays, only the state changes
                    states.pop()
                else:
                    if size:
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
