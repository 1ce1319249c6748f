"""exam.yaml's `arrangement:` block (inputs.md, rules.md §10), validated: the sessions available
(`sessions`, else two a day from the exam date: 08:00-10:30 and 14:30-16:30, continuing on the
following days for as many sessions as needed), pinned subjects, seat order, invigilators per room,
generated exam numbers and whether the first-choice subjects share a session."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["ArrangementSettings", "default_sessions"]

MORNING = (dt.time(8, 0), dt.time(10, 30))
AFTERNOON = (dt.time(14, 30), dt.time(16, 30))


def _parse_dt(value: Any, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    try:
        return dt.datetime.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError as exc:
        raise ValueError(f"{what}: {value!r} is not a date-time like 2026-11-12 08:00") from exc


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-")[:10])
    except ValueError as exc:
        raise ValueError(f"exam date {value!r} is not a date like 2026-11-12") from exc


def default_sessions(exam_date: Any, n: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Two sessions a day from `exam_date`: 08:00-10:30 and 14:30-16:30, then the next day."""
    d0 = _parse_date(exam_date)
    out = []
    for i in range(n):
        day = d0 + dt.timedelta(days=i // 2)
        a, b = MORNING if i % 2 == 0 else AFTERNOON
        out.append((dt.datetime.combine(day, a), dt.datetime.combine(day, b)))
    return out


@dataclass
class ArrangementSettings:
    """exam.yaml's `arrangement:` block, validated (inputs.md)."""

    sessions: list[tuple[dt.datetime, dt.datetime]] | None = None  # None: default slots from the date
    pinned: dict[str, int] = field(default_factory=dict)  # subject -> 1-based session number
    order: str = "previous_rank"  # or "shuffle"
    seed: int = 0
    invigilators_per_room: int = 2
    exam_no_format: str | None = None
    first_choice_together: bool = True
    exam_date: dt.date | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None, exam_date: Any = None) -> "ArrangementSettings":
        m = dict(mapping or {})
        known = {"sessions", "pinned", "order", "seed", "invigilators_per_room", "exam_no_format",
                 "first_choice_together", "date"}
        unknown = sorted(set(m) - known)
        if unknown:
            raise ValueError(f"arrangement: unknown setting(s) {', '.join(unknown)}")
        date = exam_date if exam_date not in (None, "") else m.get("date")
        sessions = None
        if m.get("sessions"):
            sessions = []
            for i, s in enumerate(m["sessions"], start=1):
                if not isinstance(s, Mapping) or "start" not in s or "end" not in s:
                    raise ValueError(f"arrangement.sessions[{i}] needs start and end")
                a = _parse_dt(s["start"], f"arrangement.sessions[{i}].start")
                b = _parse_dt(s["end"], f"arrangement.sessions[{i}].end")
                if b <= a:
                    raise ValueError(f"arrangement.sessions[{i}] ends ({b}) before it starts ({a})")
                if sessions and a < sessions[-1][1]:
                    raise ValueError(f"arrangement.sessions[{i}] starts before session {i - 1} ends")
                sessions.append((a, b))
        pinned: dict[str, int] = {}
        for subj, no in (m.get("pinned") or {}).items():
            try:
                n = int(no)
            except (TypeError, ValueError):
                raise ValueError(f"arrangement.pinned.{subj}: {no!r} is not a session number") from None
            if n < 1:
                raise ValueError(f"arrangement.pinned.{subj}: session numbers start at 1, got {n}")
            pinned[str(subj)] = n
        order = str(m.get("order") or "previous_rank")
        if order not in ("previous_rank", "shuffle"):
            raise ValueError(f"arrangement.order: {order!r} is not previous_rank or shuffle")
        k = int(m.get("invigilators_per_room", 2) if m.get("invigilators_per_room") is not None else 2)
        if k < 1:
            raise ValueError(f"arrangement.invigilators_per_room must be at least 1, got {k}")
        fmt = m.get("exam_no_format")
        if fmt is not None:
            fmt = str(fmt)
            try:
                fmt.format(room=1, seat=1, room_name="1", session=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"arrangement.exam_no_format {fmt!r}: {exc} (fields: room, seat)") from None
        if sessions is None and date in (None, ""):
            raise ValueError("arrangement: no sessions given and no exam date to derive them from")
        return cls(
            sessions=sessions,
            pinned=pinned,
            order=order,
            seed=int(m.get("seed") or 0),
            invigilators_per_room=k,
            exam_no_format=fmt,
            first_choice_together=bool(m.get("first_choice_together", True)),
            exam_date=_parse_date(date) if date not in (None, "") else None,
        )
