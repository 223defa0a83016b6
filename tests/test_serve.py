"""sptui serve's own parts (the whole session is tested in test_desk_terminal.py)."""
from __future__ import annotations

import pytest

from sptui.serve import _size


@pytest.mark.parametrize("value, size", [("120", 120), ("120.7", 120), (None, 80), ("", 80), ("wide", 80),
                                         ("inf", 80), ("nan", 80), ("1e400", 80), ("5", 10), ("99999", 1000)])
def test_a_sessions_terminal_size_from_the_browser_is_a_sane_number(value, size):
    """The browser's width arrives in the URL: whatever it says, the session gets a size, never an error."""
    assert _size(value, 80) == size
