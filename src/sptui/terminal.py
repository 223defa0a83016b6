"""Text from the data as a terminal may show it: one rule for what is a control character, one way to show it.

A control character here is any character a terminal or a bidi-aware renderer acts on instead of drawing:
C0 (tab and line breaks too), DEL, C1, the Unicode format characters (bidi overrides and isolates such as
U+202E, zero-width characters, the BOM), line and paragraph separators, and lone surrogates (which cannot even
be written to a UTF-8 terminal). `shown` makes each one visible as an escape (`\\x1b`, `\\n`, `\\u202e`), so an
ESC sequence in a customer's name prints as text instead of retitling or clearing the operator's terminal.
The registry import refuses them (`first_control`). This is the one definition: the desk's text helper
(sptui.tui.text) escapes by it too, and so do the log lines (`ShownFormatter`).
"""
from __future__ import annotations

import logging
import re

# Cc (C0, DEL, C1), Cf (format: bidi controls, zero-width, BOM …), Cs (surrogates), Zl and Zp (U+2028, U+2029),
# as Python 3.11's Unicode database has them (a test compares this with unicodedata, code point by code point)
CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
UNSAFE = CONTROL  # (the name the desk's helper and the tests use for the one class of characters to escape)
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape(ch: str) -> str:
    """One control character as it is shown: `\\t`, `\\n`, `\\r`, `\\x1b`, `\\u202e`, `\\U000e0001`."""
    cp = ord(ch)
    return _SHORT.get(ch) or (f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}")


def shown(value) -> str:
    """`value` as text safe to print on one line of a terminal: every control character escaped."""
    return CONTROL.sub(lambda m: escape(m.group()), str(value))


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with every control character escaped but those in `keep` (e.g. "\\n" for text shown on several
    lines, where each line break is the text's own)."""
    return CONTROL.sub(lambda m: m.group() if m.group() in keep else escape(m.group()), text)


def shown_lines(text: str) -> str:
    """Text of several lines (a diagnostic with its caret, a diff) as a terminal may show it: \\n kept, every
    other control character escaped (a \\r\\n line end is a line end)."""
    return escape_controls(str(text).replace("\r\n", "\n"), keep="\n")


def _json_escape(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    cp -= 0x10000
    return f"\\u{0xd800 + (cp >> 10):04x}\\u{0xdc00 + (cp & 0x3ff):04x}"


def json_escaped(text: str) -> str:
    """JSON text (json.dumps's, whose line breaks are only its indentation) with every control character inside its
    strings written as a JSON \\u escape: the same value to a JSON reader, nothing raw for a terminal."""
    return CONTROL.sub(lambda m: m.group() if m.group() == "\n" else _json_escape(m.group()), text)


class ShownFormatter(logging.Formatter):
    """Log lines with every control character of the data in them escaped: a mail's Subject with a line break
    cannot forge a second log line, an ESC cannot reach the terminal that tails the log. A traceback keeps its
    lines, each escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return shown(super().formatMessage(record))

    def formatException(self, ei) -> str:
        return shown_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return shown_lines(super().formatStack(stack_info))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_to_stderr(level: int = logging.WARNING) -> None:
    """The process's log lines on standard error, each one line with the data in it escaped (ShownFormatter)."""
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ShownFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


def escape_unconfigured_logs() -> None:
    """A process that sets up no logging of its own (the desk, `sptui serve`) still writes its warnings to standard
    error (Python's last-resort handler): those lines escaped too, their words as before."""
    if logging.lastResort is not None:
        logging.lastResort.setFormatter(ShownFormatter("%(message)s"))


def first_control(text: str) -> tuple[int, str] | None:
    """The first control character in `text` (its 1-based position and its escape), or None."""
    m = CONTROL.search(text)
    return None if m is None else (m.start() + 1, escape(m.group()))
