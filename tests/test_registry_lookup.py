"""Registry look-ups take a code as an operator types it: full width (１２３４－５６７－８９０), an IME's dash or long vowel
mark, a minus sign: the label number, serial, support ID and phone each find their machine, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

import pytest
from conftest import registry_csv, registry_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sptui.store import Store

VARIANTS = {"weekday-9h": None, "24x7": None}
DASHES = "-－‐‑‒–—―−﹘﹣ーｰ"
WIDE = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}  # １ Ａ …


def typed(code: str, draw) -> str:
    """The code as someone may type it: each character half or full width, each hyphen any dash."""
    out = []
    for ch in code:
        if ch == "-":
            out.append(draw(st.sampled_from(DASHES)))
        elif ch in WIDE:
            out.append(draw(st.sampled_from([ch, WIDE[ch]])))
        else:
            out.append(ch)
    pad = draw(st.sampled_from(["", " ", "\u3000"]))  # an ideographic space typed before or after
    return pad + "".join(out) + pad


def test_codes_typed_full_width_or_with_any_dash_find_their_machine(store):
    store.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 13)]), variants=VARIANTS)
    for how, value in (("label", "１２３４－０００－００７"), ("label", "1234‐000‐007"), ("label", "1234ー000ー007"),
                       ("label", "１２３４−０００−００７"), ("label", " 1234–000–007\u3000"), ("serial", "ＳＮ０００００07"),
                       ("support_id", "ＳＰ０００００００７"), ("phone", "０３ー１２３４ー００００")):
        assert "1234-000-007" in [m["label_number"] for m in store.registry.find(**{how: value})], (how, value)
    assert store.registry.find(label="１２３４－０００－０９９") == []  # normalised, still exact


def test_an_import_keeps_codes_as_the_look_up_takes_them_and_a_computer_name_as_written(store):
    row = registry_row(31, label_number="1234‐000‐031", serial_number="ＳＮ－０３１", computer_name="サーバー31")
    store.registry.import_csv(registry_csv([row]), variants=VARIANTS)
    [m] = store.registry.find(label="1234-000-031")
    assert m["serial_number"] == "SN-031" and m["computer_name"] == "サーバー31"
    assert [x["label_number"] for x in store.registry.find(serial="SN‐031")] == ["1234-000-031"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    s = Store.open(f"sqlite:///{tmp_path_factory.mktemp('registry') / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(i, serial_number=f"SN-{i:03d}-X") for i in range(1, 41)]),
                      variants=VARIANTS)
    yield s
    s.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), i=st.integers(1, 40))
def test_any_way_of_typing_a_code_finds_exactly_its_machine(registry, data, i):
    row = registry_row(i)
    for how, code in (("label", row["label_number"]), ("serial", f"SN-{i:03d}-X"), ("support_id", row["support_id"])):
        found = [m["label_number"] for m in registry.registry.find(**{how: typed(code, data.draw)})]
        assert found == [row["label_number"]], (how, code)


def test_the_registry_screen_finds_a_label_typed_full_width(tmp_path, policy):
    from textual.widgets import DataTable

    from sptui.tui.app import DeskApp

    from sptui.tui.screens.registry import RegistryScreen

    s = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    s.registry.import_csv(registry_csv([registry_row(i) for i in range(1, 6)]))

    async def main():
        app = DeskApp(s, policy, lang="ja", operator="sato")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("colon", *"registry", "enter")
            await pilot.pause()
            assert isinstance(app.screen, RegistryScreen)
            app.screen.query_one("#lookup").value = "１２３４－０００－００３"  # (as an IME gives it: at once)
            await pilot.press("enter")
            await pilot.pause(0.3)
            t = app.screen.query_one("#machines", DataTable)
            return [str(t.get_row_at(n)[0]) for n in range(t.row_count)]

    assert asyncio.run(main()) == ["1234-000-003"]
    s.close()
