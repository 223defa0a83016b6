"""The desk's policy screen on save: an edit that changes recorded decisions says "this change alters N of M
recorded decisions" with the list before the new policy goes live (save, or keep editing); an edit that changes
none is saved at once, saying so."""
from __future__ import annotations

import asyncio

from test_screens import busy, policy_folder, policy_screen  # noqa: F401  (the fixture and helpers)

from sptui.tui.app import DeskApp
from sptui.tui.textual_compat import notifications

ABROAD_ONLY = '''
rule abroad-only {
  cite 第1章 1
  require device.country == "SG"
  on-fail consult
  fail-ja "国外のみ"
  fail-en "abroad only"
}
'''


def _modal_text(app) -> str:
    from textual.widgets import Label, Static

    return "\n".join(str(w.render()) for w in app.screen.query(Label).results()) + "\n" + "\n".join(
        str(w.render()) for w in app.screen.query(Static).results())


def test_an_edit_that_changes_recorded_decisions_lists_them_before_it_goes_live(busy, policy, tmp_path):  # noqa: F811
    folder, first, good = policy_folder(tmp_path)
    edited = good + ABROAD_ONLY

    async def main():
        app = DeskApp(busy, policy, policy_path=str(folder), lang="en", operator="sato")
        async with app.run_test(size=(120, 40)) as pilot:
            seen = {}
            src = await policy_screen(app, pilot)
            src.load_text(edited)
            await pilot.press("ctrl+s")
            await pilot.pause()
            seen["modal"] = type(app.screen).__name__
            seen["text"] = _modal_text(app)
            seen["before"] = (first.read_text(encoding="utf-8") == good, app.policy is policy)
            await pilot.press("escape")  # keep editing: nothing saved, nothing live
            await pilot.pause()
            seen["kept"] = (type(app.screen).__name__, first.read_text(encoding="utf-8") == good, app.policy is policy,
                            src.text == edited)
            await pilot.press("ctrl+s")
            await pilot.pause()
            await pilot.press("s")  # save: the new policy goes live
            await pilot.pause()
            seen["saved"] = (type(app.screen).__name__, first.read_text(encoding="utf-8") == edited,
                             "abroad-only" in app.policy.blocks["rule"], notifications(app)[-1].message)
            return seen

    seen = asyncio.run(main())
    assert seen["modal"] == "ReplayModal"
    assert "this change alters 40 of 40 decisions" in seen["text"]
    assert "  verdict: covered → consult" in seen["text"] and "rule abroad-only: (not in this policy) → fail" in seen["text"]
    assert seen["before"] == (True, True)  # nothing on disk, nothing live while the list is shown
    assert seen["kept"] == ("PolicyScreen", True, True, True)
    screen, on_disk, live, message = seen["saved"]
    assert (screen, on_disk, live) == ("PolicyScreen", True, True)
    assert "saved" in message and "alters 40 of 40" in message


def test_an_edit_that_changes_no_decision_is_saved_at_once_and_says_so(busy, policy, tmp_path):  # noqa: F811
    folder, first, good = policy_folder(tmp_path)
    edited = good.replace('version "2021.08-r1"', 'version "2021.08-r9"')

    async def main():
        app = DeskApp(busy, policy, policy_path=str(folder), lang="ja", operator="sato")
        async with app.run_test(size=(120, 40)) as pilot:
            src = await policy_screen(app, pilot)
            src.load_text(edited)
            await pilot.press("ctrl+s")
            await pilot.pause()
            return type(app.screen).__name__, app.policy.version, notifications(app)[-1].message

    screen, version, message = asyncio.run(main())
    assert (screen, version) == ("PolicyScreen", "2021.08-r9")
    assert first.read_text(encoding="utf-8") == edited
    assert "この変更で 40 件中 0 件の判定が変わります" in message
