"""The desk's actions, in one registry: what each does (in Japanese and English), its default key, and where it
applies. Everything else is derived from it: each screen's and widget's key bindings (`bindings(scope)`), the
descriptions the key bar and F1 show (in the desk's language), the `?` list of every key, the palette's commands,
the `:` commands, and the ids a keymap file may remap (`keymap_ids()`).

An action's id is what a keymap file names (`"triage.claim" = "C"`); ids never change once shipped. `where` names
the screens or widgets that bind it (SCOPES); the screens listed in `?` come in SCOPES' order, each action in the
order written here (the order the key bar shows them in). An action without a key is a `:` command (`names`).
"""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Action:
    id: str  # "triage.claim": what a keymap file remaps
    en: str  # what it does, in English: also the Binding's description as written
    ja: str
    where: tuple[str, ...]  # the scopes that bind it (SCOPES)
    key: str = ""  # the default key(s), Textual's names, comma-separated; none for a `:` command
    run: str = ""  # the Textual action (default: the id's last part); for a `:` command, where it goes
    show: bool = True  # in the key bar
    priority: bool = False  # before the focused widget's own keys (Textual's priority binding)
    palette: bool = False  # offered by the command palette where it applies
    names: tuple[str, ...] = ()  # a `:` command's names, the first its own

    def text(self, lang: str) -> str:
        """What it does, in the desk's language."""
        return self.ja if lang == "ja" else self.en

    def binding(self) -> Binding:
        return Binding(self.key, self.run or self.id.rsplit(".", 1)[-1], self.en, show=self.show,
                       priority=self.priority, id=self.id)


# scope → the `?` list's heading for it (a word of i18n.WORDS), None for a dialog's keys (not listed)
SCOPES: dict[str, str | None] = {
    "app": "keys_app", "queue": "keys_queue", "filter": "keys_filter", "table": "keys_table",
    "triage": "keys_triage", "alarms": "keys_alarms", "registry": "keys_registry", "policy": "keys_policy",
    "overview": "keys_overview", "handover": "keys_handover", "command": "keys_commands",
    "note": None, "confirm": None, "dispatch": None, "complete": None, "reached": None, "prompt": None, "keys": None,
    "unsaved": None, "replay": None,
}
TRIAGE = ("triage",)
MODALS = ("note", "confirm", "dispatch", "complete")

ACTIONS: tuple[Action, ...] = (
    # everywhere
    Action("app.keys", "keys", "キー一覧", ("app",), "question_mark"),
    Action("app.help", "help", "ヘルプ", ("app",), "f1", "show_help_panel"),
    Action("app.palette", "palette", "パレット", ("app",), "ctrl+p", "command_palette", show=False, priority=True),
    Action("app.quit_anywhere", "Quit", "終了", ("app",), "ctrl+q", "quit", show=False, priority=True),
    # the queue
    Action("queue.filter", "filter", "絞り込み", ("queue",), "slash"),
    Action("queue.command", "command", "コマンド", ("queue",), "colon", "app.command_mode"),
    Action("queue.clear", "clear", "解除", ("queue",), "escape", "clear_filter", show=False),
    Action("queue.refresh", "refresh", "更新", ("queue",), "r", "reload"),
    Action("queue.sort", "sort", "並べ替え", ("queue",), "s"),
    Action("queue.sort_reverse", "reverse", "逆順", ("queue",), "S", show=False),
    Action("queue.export", "export", "書き出し", ("queue",), "e", show=False),
    Action("app.quit", "quit", "終了", ("queue",), "q", "app.quit"),
    # the queue's filter box
    Action("filter.older", "older filter", "前の絞り込み", ("filter",), "up", "recall(1)", show=False),
    Action("filter.newer", "newer filter", "次の絞り込み", ("filter",), "down", "recall(-1)", show=False),
    # the queue's table
    Action("table.down", "down", "下へ", ("table",), "down,j", "cursor(1)", show=False),
    Action("table.up", "up", "上へ", ("table",), "up,k", "cursor(-1)", show=False),
    Action("table.pagedown", "page down", "次のページ", ("table",), "pagedown,ctrl+f", "page(1)", show=False),
    Action("table.pageup", "page up", "前のページ", ("table",), "pageup,ctrl+b", "page(-1)", show=False),
    Action("table.right", "right", "右へ", ("table",), "right,l", "sideways(8)", show=False),
    Action("table.left", "left", "左へ", ("table",), "left,h", "sideways(-8)", show=False),
    Action("table.first", "first", "先頭", ("table",), "g,home", show=False),
    Action("table.last", "last", "末尾", ("table",), "G,end", show=False),
    Action("table.select", "open", "開く", ("table",), "enter"),
    # an incident's or an alarm's triage
    Action("triage.back", "back", "戻る", TRIAGE, "escape"),
    Action("triage.claim", "claim", "担当する", TRIAGE, "c", palette=True),
    Action("triage.assign", "assign", "担当を移す", TRIAGE, "a", palette=True),
    Action("triage.note", "note", "メモ", TRIAGE, "n", palette=True),
    Action("triage.complete", "completed at", "作業完了時刻", TRIAGE, "f", "complete", palette=True),
    Action("triage.dispatch", "dispatch", "手配", TRIAGE, "d", palette=True),
    Action("triage.close", "close", "完了", TRIAGE, "x", palette=True),
    Action("triage.consult", "consult", "相談", TRIAGE, "m", palette=True),
    Action("triage.reached", "reached", "連絡済み", TRIAGE, "y", "contact(True)", palette=True),
    Action("triage.unreached", "unreachable", "不在", TRIAGE, "u", "contact(False)", palette=True),
    Action("triage.copy", "copy clause", "条項をコピー", TRIAGE, "o", "copy_clause", palette=True),
    # the other screens
    Action("alarms.back", "back", "戻る", ("alarms",), "escape"),
    Action("alarms.refresh", "refresh", "更新", ("alarms",), "r", "reload"),
    Action("registry.back", "back", "戻る", ("registry",), "escape"),
    Action("policy.back", "back", "戻る", ("policy",), "escape"),
    Action("policy.save", "save+reload", "保存して再読み込み", ("policy",), "ctrl+s"),
    Action("policy.reload", "reload", "再読み込み", ("policy",), "ctrl+r"),
    Action("policy.editor", "$EDITOR", "$EDITOR", ("policy",), "ctrl+e"),
    Action("policy.clauses", "clauses", "条項一覧", ("policy",), "ctrl+l"),
    Action("overview.back", "back", "戻る", ("overview",), "escape"),
    Action("overview.today", "today", "今日", ("overview",), "t", "period('today')"),
    Action("overview.week", "week", "今週", ("overview",), "w", "period('week')"),
    Action("overview.refresh", "refresh", "更新", ("overview",), "r", "reload"),
    Action("handover.back", "back", "戻る", ("handover",), "escape"),
    Action("handover.refresh", "refresh", "更新", ("handover",), "r", "reload"),
    # dialogs
    Action("modal.cancel", "cancel", "取消", MODALS, "escape", "cancel"),
    Action("modal.yes", "yes", "はい", ("confirm",), "y", "ok"),
    Action("modal.no", "no", "いいえ", ("confirm",), "n", "cancel"),
    Action("reached.cancel", "cancel", "取消", ("reached",), "escape", "answer(None)"),
    Action("reached.repair", "repair needed", "修理が必要", ("reached",), "r", "answer('repair')"),
    Action("reached.no_repair", "no repair", "修理不要", ("reached",), "n", "answer('no-repair')"),
    Action("command.cancel", "cancel", "取消", ("prompt",), "escape", "cancel"),
    Action("keys.close", "close", "完了", ("keys",), "escape,question_mark,q", "app.pop_screen"),
    Action("unsaved.save", "save", "保存", ("unsaved",), "s", "answer('save')"),
    Action("unsaved.discard", "discard", "破棄", ("unsaved",), "d", "answer('discard')"),
    Action("unsaved.stay", "stay", "編集を続ける", ("unsaved",), "escape", "answer('stay')"),
    Action("replay.save", "save: the new policy goes live", "保存（新しいポリシーを有効に）", ("replay",), "s",
           "answer('save')"),
    Action("replay.stay", "keep editing", "編集を続ける", ("replay",), "escape", "answer('stay')"),
    # `:` commands (`run`: where they go)
    Action("go.alarms", "Alarms", "通報", ("command",), run="alarms", palette=True, names=("alarms", "alarm", "a")),
    Action("go.registry", "Registry", "登録", ("command",), run="registry", palette=True, names=("registry", "reg")),
    Action("go.policy", "policy", "ポリシー", ("command",), run="policy", palette=True, names=("policy", "pol")),
    Action("go.overview", "Overview", "概況", ("command",), run="overview", palette=True, names=("overview",)),
    Action("go.handover", "Handover", "引き継ぎ", ("command",), run="handover", palette=True, names=("handover",)),
    Action("go.queue", "queue", "一覧", ("command",), run="queue", names=("queue",)),
    Action("go.quit", "quit", "終了", ("command",), run="quit", names=("quit", "q")),
)
BY_ID: dict[str, Action] = {a.id: a for a in ACTIONS}


def in_scope(scope: str) -> list[Action]:
    """The actions a screen or widget binds (or, for "command", the `:` commands), in the registry's order."""
    if scope not in SCOPES:
        raise KeyError(f"no scope {scope!r}: {', '.join(SCOPES)}")
    return [a for a in ACTIONS if scope in a.where]


def bindings(scope: str) -> list[Binding]:
    """A class's BINDINGS: its scope's actions that have a key."""
    return [a.binding() for a in in_scope(scope) if a.key]


def commands() -> dict[str, Action]:
    """Each `:` command's name (and alias) → its action."""
    return {name: a for a in in_scope("command") for name in a.names}


def keymap_ids() -> set[str]:
    """The ids a keymap file may remap: every action with a key."""
    return {a.id for a in ACTIONS if a.key}


def describe(binding, lang: str) -> str:
    """A binding's description in the desk's language: its action's words; a binding that is not the desk's
    (a Textual widget's own) in the catalogue's words for Textual's (i18n.TEXTUAL_JA), else as Textual wrote it."""
    from sptui.tui.i18n import TEXTUAL_JA

    action = BY_ID.get(getattr(binding, "id", None) or "")
    if action is not None:
        return action.text(lang)
    return TEXTUAL_JA.get(binding.description, binding.description) if lang == "ja" else binding.description
