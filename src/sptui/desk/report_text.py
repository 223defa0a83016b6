"""The lead's views as plain text (for a chat, a mail, a terminal), in Japanese or English: `sptui report` and
`sptui handover` print these lines; the desk's `:overview` and `:handover` screens show the same figures in
widgets. Values from the data go out as they are: the CLI shows every line through `sptui.terminal.shown`."""
from __future__ import annotations

import datetime as dt

from sptui.desk.handover import Handover
from sptui.desk.report import Overview
from sptui.tz import TOKYO

BLOCKS = " ▁▂▃▄▅▆▇█"
WORDS: dict[str, tuple[str, str]] = {  # key: (ja, en)
    "overview": ("概況 {since} – {until}（{at} 時点）", "Overview {since} – {until} (as of {at})"),
    "deadlines": ("到着期限: {met} / {counted} 件達成（未達 {missed}、期限前 {pending}、手配なしで完了 {closed}）",
                  "onsite deadlines: {met} of {counted} met ({missed} missed, {pending} pending, "
                  "{closed} closed without a dispatch)"),
    "late": ("未達の理由: {reasons}", "late reasons: {reasons}"),
    "reach": ("通報受信→お客様連絡: 中央値 {median} 分、最長 {worst} 分（通報 {alarms} 件、連絡済み {reached}、未連絡 {unreached}）",
              "alarm receipt → customer reached: median {median} min, worst {worst} min ({alarms} alarms, {reached} "
              "reached, {unreached} not yet)"),
    "overdue": ("現在の超過: 連絡 {calls} 件、到着期限（未手配）{deadlines} 件",
                "overdue now: {calls} call(s), {deadlines} deadline(s) with nobody sent"),
    "open": ("対応中の障害: {n} 件（判定別 {verdicts}; 状態別 {statuses}）",
             "open incidents: {n} (by verdict {verdicts}; by status {statuses})"),
    "consults": ("相談待ち: {n} 件", "consults waiting: {n}"),
    "dispatches": ("手配: {total} 件（時間外 {off_hours}、お客様負担 {pays}）",
                   "dispatches: {total} ({off_hours} off-hours, {pays} the customer pays)"),
    "incidents_hour": ("障害/時", "incidents/hour"), "alarms_hour": ("通報/時", "alarms/hour"),
    "slack": ("到着期限の余裕（分、負は遅れ）", "deadline slack (minutes; negative: late)"),
    "period_today": ("今日", "today"), "period_week": ("今週", "this week"), "period_range": ("期間", "range"),
    "by": ("{key}別", "by {key}"), "customer": ("お客様", "customer"), "variant": ("種類", "variant"),
    "group_head": ("受付 達成 未達 時間外 連絡中央値", "opened met missed off-hours median-reach"),
    "handover": ("引き継ぎ {since} – {until}", "Handover {since} – {until}"),
    "changed": ("シフト中: 起票 {opened}、担当 {claimed}、引き継ぎ {taken-over}、担当変更 {assigned}、手配 {dispatched}、"
                "完了 {closed}; 通報 受信 {alarm-received}、連絡済み {reached}、不在 {unreachable}; 次のシフトへの再連絡 {retries}",
                "in the shift: {opened} opened, {claimed} claimed, {taken-over} taken over, {assigned} assigned, "
                "{dispatched} dispatched, {closed} closed; alarms: {alarm-received} received, {reached} reached, "
                "{unreachable} unreachable; {retries} retr(y/ies) scheduled into the next shift"),
    "events": ("出来事:", "events:"), "retries": ("次のシフトの再連絡:", "retries in the next shift:"),
    "left": ("残り: 障害 {incidents} 件、連絡待ちの通報 {alarms} 件", "left: {incidents} open incident(s), {alarms} alarm(s) to call"),
    "owners": ("担当:", "who owns what:"), "nobody": ("（未担当）", "(nobody)"), "none": ("なし", "none"),
}


def word(lang: str, name: str, **kw) -> str:
    text = WORDS[name][0 if lang == "ja" else 1]
    return text.format(**kw) if kw else text


def at_min(t: dt.datetime | None) -> str:
    return "—" if t is None else t.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def sparkline(values: list[int]) -> str:
    """Counts as one line of block characters (readable without colour): the highest is a full block."""
    top = max(values, default=0)
    if top == 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[0] if v == 0 else BLOCKS[max(1, round(v / top * 8))] for v in values)


def bar(n: int, top: int, width: int = 30) -> str:
    return "█" * (0 if top == 0 else round(n / top * width)) or ("▏" if n else "")


def _num(v) -> str:
    return "—" if v is None else f"{v:g}"


def _pairs(d: dict, lang: str) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or word(lang, "none")


def figure_lines(ov: Overview, lang: str = "en") -> list[str]:
    """The period's figures, one a line (no chart)."""
    d, r = ov.deadlines, ov.reach
    return [word(lang, "deadlines", met=d["met"], counted=ov.deadlines_counted, missed=d["missed"],
                 pending=d["pending"], closed=d["closed_without_dispatch"]),
            word(lang, "late", reasons=_pairs(ov.late_reasons, lang)),
            word(lang, "reach", median=_num(r["median_minutes"]), worst=_num(r["worst_minutes"]), alarms=r["alarms"],
                 reached=r["reached"], unreached=r["unreached"]),
            word(lang, "overdue", **ov.overdue),
            word(lang, "open", n=sum(ov.open_by_status.values()), verdicts=_pairs(ov.open_by_verdict, lang),
                 statuses=_pairs(ov.open_by_status, lang)),
            word(lang, "consults", n=ov.consults_waiting),
            word(lang, "dispatches", total=ov.dispatches["total"], off_hours=ov.dispatches["off_hours"],
                 pays=ov.dispatches["customer_pays"])]


def slack_lines(ov: Overview, lang: str = "en", width: int = 30) -> list[str]:
    """The deadline slack as a bar chart of characters (readable without colour)."""
    top = max((n for _, n in ov.slack), default=0)
    return [word(lang, "slack") + ":"] + [f"  {label:>9} {n:>5} {bar(n, top, width)}" for label, n in ov.slack]


def group_lines(ov: Overview, lang: str = "en", *, groups: int = 10) -> list[str]:
    """The figures per customer and per variant, the busiest first (`groups` of each)."""
    out = []
    for key, rows in (("customer", ov.by_customer), ("variant", ov.by_variant)):
        out.append(word(lang, "by", key=word(lang, key)) + f": {word(lang, 'group_head')}")
        out += [f"  {g[key]}: {g['opened']} {g['met']} {g['missed']} {g['off_hours']} {_num(g['median_reach_minutes'])}"
                for g in rows[:groups]]
        if len(rows) > groups:
            out.append(f"  … +{len(rows) - groups}")
    return out


def overview_lines(ov: Overview, lang: str = "en", *, groups: int = 10) -> list[str]:
    """The whole overview as text: `sptui report`."""
    head = word(lang, "overview", since=at_min(ov.period.since), until=at_min(ov.period.until), at=at_min(ov.at))
    charts = [f"{word(lang, key)}: {sparkline(series)} (max {max(series, default=0)})"
              for key, series in (("incidents_hour", ov.incidents_per_hour), ("alarms_hour", ov.alarms_per_hour))]
    return [head, *figure_lines(ov, lang), *charts, *slack_lines(ov, lang), *group_lines(ov, lang, groups=groups)]


def handover_lines(h: Handover, lang: str = "en") -> list[str]:
    out = [word(lang, "handover", since=at_min(h.since), until=at_min(h.until)), word(lang, "changed", **h.counts),
           word(lang, "events")]
    out += [f"  {e.at.astimezone(TOKYO):%m-%d %H:%M} {e.operator} {e.kind} {e.entity} {e.id if e.id is not None else ''}"
            f"{': ' + e.text if e.text else ''}" for e in h.events]
    if h.retries:
        out.append(word(lang, "retries"))
        out += [f"  alarm {r['alarm']}: {at_min(r['next_contact_at'])}" for r in h.retries]
    out.append(word(lang, "left", incidents=len(h.left["incidents"]), alarms=len(h.left["alarms"])))
    out += [f"  incident {r['id']} {r['status']} {r['verdict']} {r['owner'] or word(lang, 'nobody')} "
            f"deadline {at_min(r['deadline'])} {r['customer']}: {r['summary']}" for r in h.left["incidents"]]
    out += [f"  alarm {a['id']} {a['status']} {a['computer']} next call {at_min(a['next_contact_at'])}"
            for a in h.left["alarms"]]
    out.append(word(lang, "owners"))
    out += [f"  {owner or word(lang, 'nobody')}: " + " ".join(f"#{i}" for i in ids) for owner, ids in h.owners.items()]
    return out
