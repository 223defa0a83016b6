"""The values the store takes and gives that are not rows: a decision as the desk hands it over to be kept
(`Decided`, made by sptui.desk.decided), an incident or alarm the desk decided (`NewIncident`, `NewAlarm`), and
what became of one alarm mail (`Stored`)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs


@attrs.frozen
class Decided:
    """What the store keeps of a decision the desk made: the store never decides, it keeps these."""
    json: dict  # eval.md's JSON (English), with the Japanese messages beside it (messages_ja)
    verdict: str
    deadline: dt.datetime | None  # the onsite deadline, if the decision sets one
    policy_digest: str
    fee: dict | None = None  # the 別表-1 fee's JSON, if the decision charges one
    next_contact_at: dt.datetime | None = None  # an alarm's next call, if one is due
    arrange_technician: bool = False  # an alarm's: a technician is to be arranged with the call
    case: dict | None = None  # the case decided (eval.md's JSON), kept with an alarm's decision to be replayed


@attrs.frozen
class Stored:
    """What became of one mail: `stored` (a new alarm), `duplicate` (already stored) or `quarantined`; a
    quarantined mail has its `reason` (a mail quarantined before is a `duplicate` with its reason)."""
    outcome: str
    id: int
    reason: str | None = None

    @property
    def kind(self) -> str:
        """stored, duplicate (of an alarm) or quarantined (now or before)."""
        return "quarantined" if self.reason else self.outcome

    def ref(self) -> str:
        """`alarm 12` or `Q3 (no-express)`: where the mail is kept."""
        return f"Q{self.id} ({self.reason})" if self.reason else f"alarm {self.id}"


@attrs.frozen
class NewIncident:
    """An incident the desk decided, to be opened: the machine, the notice's receipt, the case and its decision."""
    machine_id: int
    label: str
    received_at: dt.datetime  # the case's `at`
    case: dict
    decided: Decided
    summary: str
    support: str = "hw"


@attrs.frozen
class NewAlarm:
    """An alarm mail the desk routed, to be filed: the machine it came from, the parsed mail (an AlarmMail of
    sptui.intake.esmpro), its receipt, the routing decision and where it stands: `new` (a call is due) or `closed`
    (none is: `closed_reason`)."""
    machine_id: int
    mail: Any
    via: str
    received_at: dt.datetime
    decided: Decided
    status: str
    closed_reason: str | None = None
