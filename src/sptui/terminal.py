"""Text from the data as a terminal may show it: one rule for what is a control character, one way to show it.

A control character here is any character a terminal or a bidi-aware renderer acts on instead of drawing:
C0 (tab and line breaks too), DEL, C1, the Unicode format characters (bidi overrides and isolates such as
U+202E, zero-width characters, the BOM), line and paragraph separators, and lone surrogates (which cannot even
be written to a UTF-8 terminal). `shown` makes each one visible as an escape (`\\x1b`, `\\n`, `\\u202e`), so an
ESC sequence in a customer's name prints as text instead of retitling or clearing the operator's terminal.
The registry import refuses them (`first_control`).
"""
from __future__ import annotations

import re

# Cc (C0, DEL, C1), Cf (format: bidi controls, zero-width, BOM …), Cs (surrogates), Zl and Zp (U+2028, U+2029),
# as Python 3.11's Unicode database has them (a test compares this with unicodedata, code point by code point)
CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape(ch: str) -> str:
    """One control character as it is shown: `\\t`, `\\n`, `\\r`, `\\x1b`, `\\u202e`, `\\U000e0001`."""
    cp = ord(ch)
    return _SHORT.get(ch) or (f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}")


def shown(value) -> str:
    """`value` as text safe to print on one line of a terminal: every control character escaped."""
    return CONTROL.sub(lambda m: escape(m.group()), str(value))


def first_control(text: str) -> tuple[int, str] | None:
    """The first control character in `text` (its 1-based position and its escape), or None."""
    m = CONTROL.search(text)
    return None if m is None else (m.start() + 1, escape(m.group()))
