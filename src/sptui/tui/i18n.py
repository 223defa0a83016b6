"""The desk's words in Japanese and English (`--lang`; default from the locale)."""
from __future__ import annotations

import locale
import os

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
    "late_reason": ("遅延理由 (traffic/weather/site/parts)", "late reason (traffic/weather/site/parts)"),
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
    "customer_pays": ("お客様負担", "customer pays"),
    "dispatch_title": ("手配 — 障害 #{id}（判定: {verdict}）", "dispatch — incident #{id} (verdict: {verdict})"),
    "uncovered_warning": ("{verdict}: この機器の作業はパックの対象外です。お客様負担（見積が必要）で、手配には確認が必要です",
                          "{verdict}: the pack does not cover this machine's work; the customer pays (quote needed). "
                          "Confirm to dispatch."),
    "confirm_uncovered": ("対象外・お客様負担を確認しました", "I confirm: not covered, the customer pays"),
    "consent_by": ("お客様の同意: どなたが", "customer's consent: who"),
    "consent_via": ("同意の方法 (phone/mail)", "consent by (phone/mail)"),
    "consent_at": ("同意の日時", "consent at (YYYY-MM-DD HH:MM)"),
    "consent_needed": ("お客様負担の作業です: 同意（どなたが・電話かメールか）を記録してください",
                       "the customer pays: record their consent (who, by phone or mail)"),
    "bad_time_in": ("{field}: 日時が読めません「{text}」（YYYY-MM-DD HH:MM）",
                    "{field}: cannot read the time {text!r} (YYYY-MM-DD HH:MM)"),
    "bad_technicians": ("人数は1以上の整数です（「{text}」）", "technicians: a whole number, 1 or more (not {text!r})"),
    "bad_via": ("同意の方法は phone か mail です（「{text}」）", "consent by: phone or mail (not {text!r})"),
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
    "alarm_linked": ("通報 #{alarm} を対応中の障害 #{incident} に加えました",
                     "alarm #{alarm} joined the open incident #{incident}"),
}

# the data's own words (a verdict, a status…), stored in English, shown in the desk's language; one not listed here
# (a newer status) shows as stored
VALUES: dict[str, dict[str, tuple[str, str]]] = {  # kind → stored value → (ja, en)
    "verdict": {"covered": ("対象", "covered"), "not-covered": ("対象外", "not-covered"),
                "not-started": ("開始前", "not-started"), "billable": ("有償", "billable"),
                "consult": ("要相談", "consult")},
    "status": {"open": ("未着手", "open"), "claimed": ("担当中", "claimed"), "dispatched": ("手配済み", "dispatched"),
               "closed": ("完了", "closed"), "new": ("新着", "new"), "retry": ("再連絡", "retry"),
               "reached": ("連絡済み", "reached"), "linked": ("障害へ", "linked")},
    "registration": {"accepted": ("登録済み", "accepted"), "pending": ("登録待ち", "pending"),
                     "rejected": ("登録不可", "rejected")},
    "event": {"opened": ("受付", "opened"), "claimed": ("担当", "claimed"), "note": ("メモ", "note"),
              "dispatched": ("手配", "dispatched"), "closed": ("完了", "closed"), "consult": ("相談", "consult"),
              "unconsult": ("相談解除", "unconsult"), "take-over": ("引き継ぎ", "take-over"),
              "assigned": ("担当変更", "assigned"), "alarm": ("通報", "alarm")},
    "outcome": {"pass": ("適合", "pass"), "fail": ("不適合", "fail"), "warn": ("注意", "warn"), "info": ("情報", "info"),
                "skip": ("非適用", "skip")},
}


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

    def yes_no(self, value) -> str:
        return self("none") if value is None else self("yes") if value else self("no")
