"""Data that a terminal would act on (a bidi override, an ESC sequence, a line separator) or read as markup shows
escaped on every screen of the desk, read as the terminal gets it: customers so named on the queue, the triage,
the palette, the registry, and alarms so trapped on the alarms screen. (The one definition of an unsafe character
is sptui.terminal's; the desk's text helpers go through it.)"""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from conftest import registry_csv, registry_row
from intake_util import alarm
from test_tui import terminal_lines, text_of

from sptui.desk import file_mails, open_incident
from sptui.intake.ingest import parse
from sptui.store import Store
from sptui.store import schema as S
from sptui.tui.app import DeskApp

# each customer's name as stored → as the desk must show it (each short enough for the queue's customer column)
NAMES = {"乙\u202e丙": "乙\\u202e丙", "丁\x1b[2J": "丁\\x1b[2J", "戊\u2028己": "戊\\u2028己", "[bold]甲": "[bold]甲"}
RAW = ("\u202e", "\x1b", "\u2028")


@pytest.fixture
def hostile(tmp_path, policy):
    """Four machines whose customers are named so (written to the database as another program could: the registry
    import refuses such names), each with an open incident and an alarm whose trap name is the same text."""
    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 5)]))
    now = dt.datetime.now(S.TOKYO).replace(microsecond=0)
    for n, name in enumerate(NAMES, start=1):
        with s.db.write() as conn:
            cid = conn.execute(sa.select(S.machines.c.customer_id).where(
                S.machines.c.label_number == f"1234-000-{n:03d}")).scalar_one()
            conn.execute(S.customers.update().where(S.customers.c.id == cid).values(organisation=name))
        open_incident(s, policy, label=f"1234-000-{n:03d}", at=now - dt.timedelta(minutes=n), summary="障害",
                      operator="setup")
        raw = alarm(f"SV{n:04d}", now - dt.timedelta(minutes=2), message_id=f"unsafe{n}@sv")
        [stored] = file_mails(s, policy, [(raw, parse(raw), "test", now)])
        with s.db.write() as conn:
            conn.execute(S.alarms.update().where(S.alarms.c.id == stored.id).values(trap=name))
    yield s
    s.close()


def _check(name: str, lines) -> None:
    text = "\n".join(text_of(line) for line in lines)
    for ch in RAW:
        assert ch not in text, (name, repr(ch))
    for line in lines:  # `[bold]` is text: drawn as the brackets are, the name after it no bolder
        t = text_of(line)
        if "[bold]甲" in t:
            at, runs = t.index("[bold]甲"), []
            for part, style in line:
                runs.extend([bool(style.bold)] * len(part))
            assert runs[at] == runs[at + 6], (name, t)


def test_unsafe_characters_in_customer_names_and_trap_names_show_escaped_on_every_screen(hostile, policy):
    async def main():
        app = DeskApp(hostile, policy, lang="en", operator="sato")
        seen = {}
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.3)
            seen["queue"] = terminal_lines(app)
            for n, name in enumerate(NAMES, start=1):
                app.open_record("incident", n)
                await pilot.pause(0.3)
                seen[f"triage {name!r}"] = terminal_lines(app)
                await pilot.press("escape")
                await pilot.pause()
                await pilot.press("ctrl+p")
                await pilot.pause(0.2)
                await pilot.press(*name[0])  # the name's first letter finds it in the palette
                await pilot.pause(0.6)
                seen[f"palette {name!r}"] = terminal_lines(app)
                await pilot.press("escape")
                await pilot.pause()
            await pilot.press("colon", *"alarms", "enter")
            await pilot.pause(0.3)
            seen["alarms"] = terminal_lines(app)
            await pilot.press("escape", "colon", *"registry", "enter")
            await pilot.pause()
            for name in NAMES:
                app.screen.query_one("#lookup").value = f"1234-000-00{list(NAMES).index(name) + 1}"
                app.screen.query_one("#lookup").focus()
                await pilot.press("enter")
                await pilot.pause(0.3)
                seen[f"registry {name!r}"] = terminal_lines(app)
        return seen

    seen = asyncio.run(main())
    text = {k: "\n".join(text_of(line) for line in v) for k, v in seen.items()}
    missing = [(screen, name) for name, shown in NAMES.items()
               for screen in ("queue", f"triage {name!r}", f"palette {name!r}", "alarms", f"registry {name!r}")
               if shown not in text[screen]]
    assert not missing, f"not shown escaped: {missing}"
    for name, lines in seen.items():
        _check(name, lines)
