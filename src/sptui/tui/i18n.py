"""The desk's words in Japanese and English (`--lang`; default from the locale)."""
from __future__ import annotations

import functools
import locale
import os

from sptui.model.case import VERDICT_JA

WORDS: dict[str, tuple[str, str]] = {  # key: (ja, en)
    "title": ("SupportPack デスク", "SupportPack desk"),
    "kind": ("種別", "kind"), "incident": ("障害", "incident"), "alarm": ("通報", "alarm"),
    "label": ("機器管理番号", "label no."), "customer": ("お客様", "customer"), "verdict": ("判定", "verdict"),
    "in_hours": ("時間内", "in hours"), "left": ("残り", "time left"), "next_contact": ("次の連絡", "next contact"),
    "status": ("状態", "status"), "summary": ("内容", "summary"), "owner": ("担当", "owner"),
    "shown": ("{shown:,} / {total:,} 件を表示", "{shown:,} of {total:,} shown"),
    "loading": ("（残りを読み込み中…）", " (loading the rest…)"),
    "in_all": ("（全 {all:,} 件）", " — {all:,} in all"),
    "filter": ("絞り込み（Esc で解除）", "filter (Esc clears)"),
    "yes": ("はい", "yes"), "no": ("いいえ", "no"), "none": ("—", "—"), "overdue": ("超過", "overdue"),
    "open": ("開く", "open"), "quit": ("終了", "quit"), "search": ("絞り込み", "filter"), "refresh": ("更新", "refresh"),
    "back": ("戻る", "back"), "claim": ("担当する", "claim"), "note": ("メモ", "note"), "dispatch": ("手配", "dispatch"),
    "close": ("完了", "close"), "reached": ("連絡済み", "reached"), "unreached": ("不在", "unreachable"),
    "help": ("ヘルプ", "help"), "keys": ("キー一覧", "keys"),
    "machine": ("機器", "machine"), "pack": ("パック", "pack"), "decision": ("判断", "decision"),
    "reasons": ("理由", "reasons"), "timeline": ("経過", "timeline"), "rule": ("ルール", "rule"),
    "outcome": ("結果", "outcome"), "clause": ("条項", "clause"), "message": ("説明", "message"),
    "interpretation": ("解釈", "interpretation"), "deadline": ("到着期限", "onsite deadline"),
    "registration": ("登録", "registration"), "express": ("エクスプレス開始", "Express from"),
    "received": ("受付", "received"), "phone": ("電話", "phone"), "site": ("設置場所", "site"),
    "serial": ("製造番号", "serial"), "model": ("型名", "model"), "variant": ("種類", "variant"),
    "plugins_failed": ("プラグイン {n} 件を読み込めず、除外しました: {names}（詳細: sptui plugins -v）",
                       "{n} plugin(s) failed to load and were skipped: {names} (details: sptui plugins -v)"),
    "years": ("年", " years"), "detail": ("詳細", "detail"), "event": ("イベント", "event"),
    "claimed": ("担当しました", "claimed"), "noted": ("メモを記録しました", "note recorded"),
    "dispatched": ("手配しました", "dispatched"), "closed": ("完了にしました", "closed"),
    "contact_saved": ("連絡を記録しました", "contact recorded"),
    "note_prompt": ("メモ（Enter で記録、Esc で取消）", "note (Enter saves, Esc cancels)"),
    "technician": ("技術者", "technician"), "departure": ("出発 (YYYY-MM-DD HH:MM)", "departure (YYYY-MM-DD HH:MM)"),
    "completion": ("完了 (任意)", "completion (optional)"), "technicians": ("人数", "technicians"),
    "late_reason": ("遅延理由: 交通/天候/現場/部品", "late: traffic/weather/site/parts"),
    "fee": ("料金", "fee"), "needs_quote": ("2名以上: 見積が必要です", "2 or more technicians: needs a quote"),
    "confirm_dispatch": ("手配を確定しますか", "Dispatch now?"), "confirm_close": ("完了にしますか", "Close this incident?"),
    "alarms_title": ("通報", "Alarms"), "inbox": ("受信", "inbox"), "due_now": ("今かける", "calls due now"),
    "quarantine": ("隔離", "quarantine"), "id": ("番号", "no."), "reason": ("理由", "reason"),
    "sender": ("送信者", "sender"), "computer": ("コンピュータ名", "computer"), "technician_short": ("技術者", "tech"),
    "command_prompt": ("コマンド（{commands}）", "command ({commands})"),
    "unknown_command": ("不明なコマンド :{command}（使えるもの: {known}）", "unknown command :{command} (known: {known})"),
    "keys_app": ("全体", "everywhere"), "keys_queue": ("一覧", "queue"), "keys_table": ("表", "table"),
    "keys_filter": ("絞り込み欄", "filter box"),
    "keys_triage": ("障害・通報", "triage"), "keys_alarms": ("通報", "alarms"), "keys_commands": ("コマンド", "commands"),
    "registry_title": ("登録", "Registry"),
    "registry_prompt": ("機器管理番号・製造番号・サポートID・お客様名・電話番号（Enter）",
                        "label no., serial, support ID, customer or phone (Enter)"),
    "registry_found": ("{n} 台", "{n} machine(s)"), "keys_registry": ("登録", "registry"),
    "keys_policy": ("ポリシー", "policy"),
    # the lead's views (screens/overview.py, screens/handover.py) and the queue's export
    "keys_overview": ("概況", "overview"), "keys_handover": ("引き継ぎ", "handover"),
    "overview_title": ("概況 — {period}", "Overview — {period}"),
    "handover_title": ("引き継ぎ", "Handover"),
    "handover_since": ("シフト開始（YYYY-MM-DD HH:MM、Enter）", "shift started at (YYYY-MM-DD HH:MM, Enter)"),
    "exported": ("{n} 行を書き出しました: {path}", "{n} row(s) exported to {path}"),
    "policy_live": ("有効なポリシー: {name} {version} ({digest}…)", "live policy: {name} {version} ({digest}…)"),
    "policy_ok": ("エラーなし", "no errors"), "policy_errors": ("エラー {n} 件", "{n} error(s)"),
    "policy_reloaded": ("ポリシーを再読み込みしました", "policy reloaded"),
    "policy_kept": ("エラーのため以前のポリシーのままです", "the policy has errors: the last good policy stays live"),
    "copied": ("コピーしました: {what}", "copied {what}"),
    "jump_help": ("開く", "open"), "clause_help": ("条項と、それを引用するブロック", "the clause and what cites it"),
    "keymap_error": ("キー設定 {path}: {error}", "keymap {path}: {error}"),
    "theme_error": ("{where}: テーマ「{name}」はありません（{names}）", "{where}: no theme {name!r} (themes: {names})"),
    "whatif": ("結果が変わる条件", "what would change it"), "recovery": ("HW設定復旧", "HW setting recovery"),
    "read_only": ("閲覧専用です", "read-only desk"), "read_only_mark": ("閲覧専用", "READ-ONLY"), "not_alarm": ("通報ではありません", "not an alarm"),
    "unexpected": ("予期しないエラー（記録しました。デスクはそのまま使えます）: {error}",
                   "unexpected error (logged; the desk keeps running): {error}"),
    "warning": ("注意", "warning"), "error": ("エラー", "error"),
    "consult": ("相談", "consult"),
    "consult_prompt": ("相談が必要な理由（お客様・NECと確認すること。Enter で記録、Esc で取消）",
                       "why it needs consultation with the customer or NEC (Enter saves, Esc cancels)"),
    "consult_marked": ("相談として記録しました", "marked for consultation"),
    "consult_cleared": ("相談の印を外しました", "consultation mark cleared"),
    "confirm_unconsult": ("相談の印を外しますか", "Clear the consultation mark?"),
    "unsaved": ("{name} の変更は保存されていません", "{name} has changes that are not saved"),
    "save": ("保存", "save"), "discard": ("破棄", "discard"), "stay": ("編集を続ける", "stay"),
    "policy_saved": ("保存して再読み込みしました", "saved: policy reloaded"),
    "replay_title": ("保存する前に: 記録された判定を新しいポリシーで再判定しました", "before saving: the recorded decisions replayed under the new policy"),
    "replay_save": ("保存して有効にする", "save: it goes live"), "replay_stay": ("編集を続ける", "keep editing"),
    "policy_refused": ("エラーがあるため保存していません。以前のポリシーのままです。編集内容は {aside} に保存しました",
                       "not saved: the policy has errors, the last good policy stays live; your edit is kept in {aside}"),
    "policy_refused_kept": ("エラーがあるため保存していません。以前のポリシーのままです（{aside} にも保存できません: {error}）",
                            "not saved: the policy has errors, the last good policy stays live (nor could the edit be "
                            "kept in {aside}: {error})"),
    "not_incident": ("障害ではありません（y: 連絡済み。修理が必要なら障害を起票）",
                     "not an incident (y: the customer was reached; a repair needed opens its incident)"),
    "bad_time": ("日時が読めません", "cannot read the time"),
    # the work flow: who pays for a dispatch, ownership, an alarm's end
    # who pays for a dispatch: short in the queue's status column, in full on the triage
    "billing_short_fee": ("有償", "pays"), "billing_short_quote-needed": ("要見積", "quote"),
    "billing_short_free": ("無償", "free"),
    "billing_fee": ("お客様負担: 料金 {fee}（別表-1）", "customer pays: fee {fee} (別表-1)"),
    "billing_fee_unknown": ("お客様負担: 料金は作業完了時刻で決まります（別表-1）",
                            "customer pays: the 別表-1 fee once the completion is known"),
    "billing_quote-needed": ("お客様負担: 要見積", "customer pays: quote needed"),
    "billing_free": ("無償（パックの範囲内）", "free (the pack covers it)"),
    "dispatch_title": ("手配 — 障害 #{id}（判定: {verdict}）", "dispatch — incident #{id} (verdict: {verdict})"),
    "uncovered_warning": ("{verdict}: この機器の作業はパックの対象外です。お客様負担（見積が必要）で、手配には確認が必要です",
                          "{verdict}: the pack does not cover this machine's work; the customer pays (quote needed). "
                          "Confirm to dispatch."),
    "confirm_uncovered": ("対象外・お客様負担を確認しました", "I confirm: not covered, the customer pays"),
    "consent_by": ("お客様の同意: どなたが", "customer's consent: who"),
    "consent_via": ("同意の方法 (電話/メール)", "consent by (phone/mail)"),
    "consent_at": ("同意の日時 (YYYY-MM-DD HH:MM)", "consent at (YYYY-MM-DD HH:MM)"),
    "consent_needed": ("お客様負担の作業です: 同意（どなたが・電話かメールか）を記録してください",
                       "the customer pays: record their consent (who, by phone or mail)"),
    "bad_time_in": ("{field}: 日時が読めません「{text}」（YYYY-MM-DD HH:MM）",
                    "{field}: cannot read the time {text!r} (YYYY-MM-DD HH:MM)"),
    "bad_technicians": ("人数は1以上の整数です（「{text}」）", "technicians: a whole number, 1 or more (not {text!r})"),
    "bad_via": ("同意の方法は 電話 か メール です（「{text}」）", "consent by: phone or mail (not {text!r})"),
    "bad_late": ("遅延理由は 交通・天候・現場・部品 のどれかです（「{text}」）",
                 "late reason: traffic, weather, site or parts (not {text!r})"),
    "need_technician": ("技術者の名前を入れてください", "a dispatch needs the technician's name"),
    "not_computable": ("判定対象外", "not computable"),
    "refused_owned": ("{what} は {owner} さんの担当です。担当者だけが操作できます（c で引き継ぐか、{owner} さんに担当を移してもらってください）",
                      "{what} is owned by {owner}: only its owner acts on it (c takes it over, or ask {owner} to "
                      "assign it to you)"),
    "refused_changed": ("{what} は読み込んだ後に {who} が変更しました。何も保存していません。今の内容を表示しています",
                        "{what} was changed by {who} after you read it; nothing was saved: shown as it is now"),
    "refused_closed": ("{what} は完了済みです", "{what} is closed"),
    "completion_before_departure": ("作業完了（{at}）が出発（{departed}）より前です",
                                    "the completion ({at}) is before the departure ({departed})"),
    "changed_elsewhere": ("{what} は {who} が変更しました（今の内容を表示しています）",
                          "{what} was changed by {who}: shown as it is now"),
    "confirm_take_over": ("{owner} さんの担当です。引き継ぎますか（記録されます）", "Owned by {owner}. Take it over? (recorded)"),
    "taken_over": ("引き継ぎました", "taken over"),
    "assign_prompt": ("担当を移す先のオペレーター（Enter で確定、Esc で取消）",
                      "assign to which operator (Enter assigns, Esc cancels)"),
    "assigned": ("担当を移しました", "assigned"),
    "reached_question": ("通報 #{id}: お客様に連絡がつきました。オンサイト修理は必要ですか",
                         "alarm #{id}: the customer was reached. Does the machine need an onsite repair?"),
    "repair_needed": ("修理が必要（障害へ）", "repair needed (incident)"), "no_repair": ("修理不要（完了）", "no repair (close)"),
    "no_repair_prompt": ("修理不要の理由（お客様のお話。Enter で記録、Esc で取消）",
                         "why no repair (what the customer said; Enter saves, Esc cancels)"),
    "alarm_closed": ("通報を完了にしました", "alarm closed"),
    "alarm_opened": ("通報 #{alarm} から障害 #{incident} を起票しました", "alarm #{alarm}: incident #{incident} opened"),
    "take_over_button": ("引き継ぐ", "take over"),
    "taken_over_dispatch": ("引き継ぎました。「手配」で送れます（入力内容はそのままです）",
                            "taken over: dispatch now (what you typed is kept)"),
    "dispatch_reloaded": ("障害 #{id} は {who} が変更しました（{changes}）。今の内容を読み込みました",
                          "incident #{id} was changed by {who} ({changes}): read again as it is now"),
    "nothing_shown_changed": ("表示している項目に変更なし", "nothing shown here changed"),
    "dispatch_again": ("入力内容はそのままです。もう一度「手配」で、今の内容に対して手配します",
                       "what you typed is kept: dispatch again to send it for the incident as it is now"),
    "dispatch_owned_elsewhere": ("{owner} さんの担当です。手配するには「引き継ぐ」で引き継いでください（記録されます）",
                                 "{owner} owns it now: take it over (recorded) to dispatch"),
    "dispatch_closed": ("この障害は完了済みです。手配できません", "the incident is closed: nothing to dispatch"),
    "complete_title": ("作業完了の記録 — 障害 #{id}", "work completed — incident #{id}"),
    "complete_dispatch": ("技術者 {technician}  出発 {departed}  完了予定 {planned}  料金 {fee}",
                          "technician {technician}  departed {departed}  planned end {planned}  fee {fee}"),
    "completed_at": ("作業完了 (YYYY-MM-DD HH:MM)", "completed (YYYY-MM-DD HH:MM)"),
    "record_completion": ("記録", "record"),
    "fee_change": ("料金: {before} → {after}", "fee: {before} → {after}"),
    "fee_not_known": ("未確定", "not known yet"), "billing_quote": ("要見積", "quote needed"),
    "billing_none": ("なし", "none"),
    "read_again": ("今の内容を読み込みました。もう一度押すと今の内容に対して記録します",
                   "read again as it is now: press again to record it for the incident as it is now"),
    "completion_recorded": ("作業完了を記録しました", "completion recorded"),
    "not_dispatched": ("手配済みの障害ではありません（d: 手配）", "not dispatched yet (d: dispatch)"),
    "alarm_linked": ("通報 #{alarm} を対応中の障害 #{incident} に加えました",
                     "alarm #{alarm} joined the open incident #{incident}"),
}

# Textual's own words that the desk shows (a widget's keys in F1's panel, the palette's system commands and its
# search box): English as Textual writes them → Japanese. A text not listed shows as Textual wrote it.
TEXTUAL_JA: dict[str, str] = {
    "Input": "入力欄", "Bottom": "末尾", "Top": "先頭", "Home": "先頭", "End": "末尾", "First": "先頭", "Last": "末尾",
    "Up": "上へ", "Down": "下へ", "Cursor up": "上へ", "Cursor down": "下へ", "Cursor left": "左へ",
    "Cursor right": "右へ", "Page up": "前のページ", "Page down": "次のページ", "Page Up": "前のページ",
    "Page Down": "次のページ", "Page Left": "左のページ", "Page Right": "右のページ", "Select": "選択",
    "Scroll Up": "上へスクロール", "Scroll Down": "下へスクロール", "Scroll Left": "左へスクロール",
    "Scroll Right": "右へスクロール", "Scroll Home": "先頭へスクロール", "Scroll End": "末尾へスクロール",
    "Focus Next": "次の項目へ", "Focus Previous": "前の項目へ", "Quit": "終了", "Submit": "確定",
    "Toggle": "切り替え", "Press button": "押す", "Next tab": "次のタブ", "Previous tab": "前のタブ",
    "Copy": "コピー", "Cut": "切り取り", "Paste": "貼り付け", "Undo": "元に戻す", "Redo": "やり直し",
    "Copy selected text": "選択範囲をコピー", "Cut selected text": "選択範囲を切り取り",
    "Paste text from the clipboard": "クリップボードから貼り付け", "Select all": "すべて選択",
    "Move cursor left": "カーソルを左へ", "Move cursor right or accept the completion suggestion":
        "カーソルを右へ（候補を確定）", "Move cursor left a word": "一語左へ", "Move cursor right a word": "一語右へ",
    "Move cursor left and select": "左へ選択", "Move cursor right and select": "右へ選択",
    "Move cursor left a word and select": "一語左へ選択", "Move cursor right a word and select": "一語右へ選択",
    "Go to start": "行頭へ", "Go to end": "行末へ", "Select line start": "行頭まで選択",
    "Select line end": "行末まで選択", "Delete character left": "左の一文字を削除",
    "Delete character right": "右の一文字を削除", "Delete left to start of word": "語の先頭まで削除",
    "Delete right to start of word": "次の語の先頭まで削除", "Delete all to the left": "左をすべて削除",
    "Delete all to the right": "右をすべて削除",
    "Cursor up select": "上へ選択", "Cursor down select": "下へ選択", "Cursor left select": "左へ選択",
    "Cursor right select": "右へ選択", "Cursor word left": "一語左へ", "Cursor word right": "一語右へ",
    "Cursor left word select": "一語左へ選択", "Cursor right word select": "一語右へ選択",
    "Cursor line start": "行頭へ", "Cursor line end": "行末へ", "Cursor line start select": "行頭まで選択",
    "Cursor line end select": "行末まで選択", "Cursor page up": "前のページ", "Cursor page down": "次のページ",
    "Delete line": "行を削除", "Delete to line start": "行頭まで削除", "Delete to line end": "行末まで削除",
    "Select line": "行を選択",
    # the palette
    "Search for commands…": "コマンド・障害・通報・条項を検索…", "Search for themes…": "テーマを検索…",
    "Theme": "テーマ", "Change the current theme": "テーマを変える",
    "Quit the application as soon as possible": "デスクを終了する", "Keys": "キー",
    "Show help for the focused widget and a summary of available keys": "選択中の部分のキーと使えるキーの一覧を表示",
    "Hide the keys and widget help panel": "キーの一覧を閉じる", "Maximize": "最大化",
    "Maximize the focused widget": "選択中の部分を最大化", "Minimize": "元のサイズ",
    "Minimize the widget and restore to normal size": "最大化をやめて元のサイズに戻す", "Screenshot": "画面保存",
    "Save an SVG 'screenshot' of the current screen": "今の画面を SVG に保存",
}

# the data's own words (a verdict, a status…), stored in English, shown in the desk's language; one not listed here
# (a newer status) shows as stored
VALUES: dict[str, dict[str, tuple[str, str]]] = {  # kind → stored value → (ja, en)
    "late": {"traffic": ("交通", "traffic"), "weather": ("天候", "weather"), "site": ("現場", "site"),
             "parts": ("部品", "parts")},
    "via": {"phone": ("電話", "phone"), "mail": ("メール", "mail")},
    "verdict": {v: (VERDICT_JA[v], v) for v in ("covered", "not-covered", "not-started", "billable", "consult")},
    "status": {"open": ("未着手", "open"), "claimed": ("担当中", "claimed"), "dispatched": ("手配済み", "dispatched"),
               "closed": ("完了", "closed"), "new": ("新着", "new"), "retry": ("再連絡", "retry"),
               "reached": ("連絡済み", "reached"), "linked": ("障害へ", "linked")},
    "registration": {"accepted": ("登録済み", "accepted"), "pending": ("登録待ち", "pending"),
                     "rejected": ("登録不可", "rejected")},
    "event": {"opened": ("受付", "opened"), "claimed": ("担当", "claimed"), "note": ("メモ", "note"),
              "dispatched": ("手配", "dispatched"), "completed": ("作業完了", "completed"),
              "closed": ("完了", "closed"), "consult": ("相談", "consult"),
              "unconsult": ("相談解除", "unconsult"), "take-over": ("引き継ぎ", "take-over"),
              "assigned": ("担当変更", "assigned"), "alarm": ("通報", "alarm")},
    "outcome": {"pass": ("適合", "pass"), "fail": ("不適合", "fail"), "warn": ("注意", "warn"), "info": ("情報", "info"),
                "skip": ("非適用", "skip")},
}


@functools.lru_cache(maxsize=8)
def billing_words(billing: str | None) -> str:
    """Who pays for a dispatch in both languages, short and long: what a filter searches."""
    if billing not in ("free", "fee", "quote-needed"):
        return ""
    ja, en = Words("ja"), Words("en")
    return " ".join((ja.billing(billing, short=True), en.billing(billing, short=True), ja.billing(billing),
                     en.billing(billing)))


def value_words(kind: str, value) -> str:
    """A stored value in both languages (`covered 対象`): what a filter searches, whatever the desk's language."""
    pair = VALUES[kind].get(value)
    return f"{pair[1]} {pair[0]}" if pair else str(value or "")


def default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var)
        if v:
            return "ja" if v.lower().startswith("ja") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "ja" if loc.lower().startswith("ja") else "en"


class LocalBindings:
    """Mixed into the desk's app, screens and widgets: their keys describe themselves (key bar, F1) in the
    language of the app's `words`, as the action registry (actions.py) words them. Textual has no per-language
    description, so each node's own map of bindings (copied from BINDINGS when the node is made) gets the
    translated descriptions (textual_compat.set_descriptions); ids and keys stay, so a keymap still applies."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        try:
            words = getattr(self.app, "words", None)
        except RuntimeError:  # (textual's NoActiveAppError) made outside a running app: English, as written
            words = None
        if isinstance(words, Words):
            localise_bindings(self, words)


def localise_bindings(node, words: "Words") -> None:
    from sptui.tui.actions import describe
    from sptui.tui.textual_compat import set_descriptions

    if words.lang != "en":
        set_descriptions(node, lambda b: describe(b, words.lang))


class Words:
    def __init__(self, lang: str):
        if lang not in ("ja", "en"):
            raise ValueError(f"--lang must be ja or en, not {lang!r}")
        self.lang = lang
        self._i = 0 if lang == "ja" else 1

    def __call__(self, key: str, **kw) -> str:
        text = WORDS[key][self._i]
        return text.format(**kw) if kw else text

    def value(self, kind: str, value) -> str:
        """A stored value (`kind`: verdict, status, registration, outcome) in the desk's language; as stored if the
        desk has no words for it."""
        pair = VALUES[kind].get(value)
        return pair[self._i] if pair else str(value if value is not None else "?")

    def billing(self, billing: str | None, fee_jpy: int | None = None, *, short: bool = False) -> str:
        """Who pays for a dispatch (`free`, `fee`: the customer, by 別表-1, `quote-needed`): a short word for the
        queue's status column, or in full (the fee's amount when it is known); "" when there is no dispatch."""
        if billing not in ("free", "fee", "quote-needed"):
            return ""
        if short:
            return self(f"billing_short_{billing}")
        if billing == "fee":
            return self("billing_fee", fee=f"{fee_jpy:,}円") if fee_jpy is not None else self("billing_fee_unknown")
        return self(f"billing_{billing}")

    def textual(self, text: str) -> str:
        """A text Textual wrote (TEXTUAL_JA) in the desk's language."""
        return TEXTUAL_JA.get(text, text) if self.lang == "ja" else text

    def yes_no(self, value) -> str:
        return self("none") if value is None else self("yes") if value else self("no")
