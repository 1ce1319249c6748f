"""Seating (rules.md §10): per session, every student sitting it gets one room and one seat.

Order (按成绩编排 by default)
- `order: previous_rank`: by the previous exam's grade rank (best first); students without a
  previous rank come after, by student_id; ties by student_id. When no previous ranks are given
  at all, the seeded shuffle is used (inputs.md: "or shuffle (also used when there is no
  previous exam)").
- `order: shuffle`: one seeded permutation of the roster (numpy PCG64, `seed`, default 0), the
  same for every session, so a re-run gives the same seats.
- Inside a session the students are grouped by the subject they sit (exam.yaml order), then
  ordered as above: when two subjects share a session (物理/历史, 化学/地理) the rooms hold one
  paper each as far as the room boundaries allow, which is what the exam office wants for
  handing out papers. Rooms are then filled in the order of the rooms table, each up to its
  capacity (the last room used may be partly empty; rooms after it stay unused).
- Sessions with the same students and subjects get the same seating (the three core
  sessions, typically): the computation is cached and desk labels are printed once per layout.

No two students of one class in seats i and i+1 of a room "when the numbers make it possible"
- Possible inside one room of n seats iff no class has more than ceil(n/2) of its students.
  For the whole session, with rooms filled in order (sizes n_1..n_m fixed), it is possible iff
  every class has at most sum(ceil(n_r/2)) students in the session: the class-to-room counts
  form a transportation problem whose only binding cuts are single classes.
- Repair (cross-room): while a room r holds more than ceil(n_r/2) students of a class X, the
  X student of r closest to the room boundary is swapped with a non-X student of the nearest
  room s that still has room for X (s > r: the best-placed student of s; s < r: the
  worst-placed), preferring one who sits the same subject. Each swap lowers the excess by one
  and creates no new excess, so this ends, and it ends with no excess whenever the condition
  above holds. Swaps move students by at most a room or two from their rank position.
- Interleave (inside a room): seats are filled from the room's ordered list greedily: seat
  i+1 takes the best-placed remaining student whose class differs from seat i's and whose
  removal leaves the rest arrangeable (max class count <= ceil(R/2), and not the previous
  seat's class at exactly ceil(R/2) with R odd). This never fails when the room's counts allow.
  A room holding two subjects is interleaved subject block by subject block (seats 1-20 物理,
  21-30 历史) unless the blocks would leave a same-class pair the whole-room order avoids.
- When the numbers do not allow it (one class has more students in the session than the bound
  above - e.g. a subject taken almost only by one class), the room is seated to the minimum
  number of same-class neighbours (the dominant class on every other seat, its surplus at the
  end) and `notes` says where and how many.

Exam numbers (optional): `exam_no_format` such as "{room:02d}{seat:02d}" or
"26{room:02d}{seat:02d}" is filled from the room and seat of the numbering session - the first
session holding a core subject, else the session with the most students; every student must sit
it. `room` is the room's number (the room id when it is all digits, else its 1-based position in
the rooms table), `room_name` the room id as text, `seat` the seat number. Duplicates are
refused. The generated number is the student's exam_no in every session and is written back as
the roster the scanner uses (student_id, name, class, exam_no).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import polars as pl

from examflow.arrange.timetable import InfeasibleArrangement, Session, SubjectInfo, Timetable

__all__ = [
    "Room",
    "SeatingPlan",
    "arrange_room",
    "balance_rooms",
    "exam_numbers",
    "min_adjacent_pairs",
    "normalise_rooms",
    "order_positions",
    "seat_sessions",
    "seating_problems",
]


@dataclass(frozen=True)
class Room:
    room: str
    location: str | None
    capacity: int
    number: int  # used by exam_no_format's {room}


def normalise_rooms(rooms: pl.DataFrame) -> list[Room]:
    if "room" not in rooms.columns or "capacity" not in rooms.columns:
        raise ValueError("rooms need the columns room and capacity")
    ids = [str(r).strip() for r in rooms["room"].to_list()]
    dup = [r for r, n in Counter(ids).items() if n > 1]
    if dup:
        raise ValueError(f"rooms listed twice: {', '.join(dup)}")
    caps = rooms["capacity"].to_list()
    locs = rooms["location"].to_list() if "location" in rooms.columns else [None] * len(ids)
    numeric = all(r.isdigit() for r in ids)
    out = []
    for i, (r, c, loc) in enumerate(zip(ids, caps, locs)):
        if c is None or int(c) < 0:
            raise ValueError(f"room {r}: capacity {c!r} is not a seat count")
        out.append(Room(r, None if loc in (None, "") else str(loc), int(c), int(r) if numeric else i + 1))
    return out


def order_positions(
    student_ids: Sequence[str],
    previous_ranks: pl.DataFrame | None,
    order: str,
    seed: int,
) -> tuple[list[int], str]:
    """Position of every roster row in the seating order, and the order actually used."""
    n = len(student_ids)
    if order == "previous_rank" and previous_ranks is not None and previous_ranks.height:
        ranks: dict[str, float] = {}
        for sid, rk in zip(previous_ranks["student_id"].to_list(), previous_ranks["grade_rank"].to_list()):
            if rk is not None:
                ranks[str(sid)] = float(rk)
        keys = sorted(range(n), key=lambda i: (0, ranks[student_ids[i]], student_ids[i])
                      if student_ids[i] in ranks else (1, 0.0, student_ids[i]))
        used = "previous_rank"
    else:
        by_id = sorted(range(n), key=lambda i: student_ids[i])
        perm = np.random.default_rng(seed).permutation(n)
        keys = [by_id[j] for j in perm]
        used = "shuffle"
    pos = [0] * n
    for p, i in enumerate(keys):
        pos[i] = p
    return pos, used


# --------------------------------------------------------------------------------------------
# same-class neighbours
# --------------------------------------------------------------------------------------------
def _feasible(counts: Mapping[Any, int], remaining: int, prev: Any) -> bool:
    if remaining == 0:
        return True
    m = max(counts.values()) if counts else 0
    half = (remaining + 1) // 2
    if m > half:
        return False
    if remaining % 2 == 1 and prev is not None and counts.get(prev, 0) == half:
        return False
    return True


def min_adjacent_pairs(counts: Mapping[Any, int]) -> int:
    """The fewest same-class neighbour pairs a row of these class counts can have."""
    n = sum(counts.values())
    m = max(counts.values(), default=0)
    return max(0, m - (n - m) - 1)


def _interleave(members: Sequence[int], cls: Sequence[Any], prev: Any = None) -> list[int]:
    remaining = list(members)
    counts = Counter(cls[i] for i in remaining)
    out: list[int] = []
    while remaining:
        R = len(remaining)
        pick = None
        if _feasible(counts, R, prev):
            for j, i in enumerate(remaining):
                c = cls[i]
                if c == prev:
                    continue
                counts[c] -= 1
                ok = _feasible(counts, R - 1, c)
                counts[c] += 1
                if ok:
                    pick = j
                    break
        if pick is None:  # not arrangeable: spread the largest class, fewest pairs
            best_c, best_n = None, -1
            for c, k in counts.items():
                if c != prev and k > best_n:
                    best_c, best_n = c, k
            if best_c is None or best_n <= 0:
                pick = 0
            else:
                pick = next(j for j, i in enumerate(remaining) if cls[i] == best_c)
        i = remaining.pop(pick)
        c = cls[i]
        counts[c] -= 1
        if counts[c] == 0:
            del counts[c]
        out.append(i)
        prev = c
    return out


def _pairs(seq: Sequence[int], cls: Sequence[Any]) -> int:
    return sum(1 for a, b in zip(seq, seq[1:]) if cls[a] == cls[b])


def arrange_room(members: Sequence[int], cls: Sequence[Any], subject: Mapping[int, str] | None = None) -> list[int]:
    """Seat order for one room: `members` (roster rows, best-placed first) re-ordered so that no
    two neighbours share a class when the counts allow, else with the fewest such pairs. With
    `subject`, each subject's students keep a block of consecutive seats (papers are handed out
    by block) unless that would cost a same-class pair the whole-room order avoids."""
    whole = _interleave(members, cls)
    if subject is None:
        return whole
    blocks: dict[str, list[int]] = {}
    for i in members:
        blocks.setdefault(subject.get(i, ""), []).append(i)
    if len(blocks) < 2:
        return whole
    seq: list[int] = []
    for part in blocks.values():
        seq += _interleave(part, cls, cls[seq[-1]] if seq else None)
    return seq if _pairs(seq, cls) <= _pairs(whole, cls) else whole


def balance_rooms(
    rooms_members: list[list[int]],
    cls: Sequence[Any],
    pos: Sequence[int],
    subj: Mapping[int, str] | None = None,
) -> int:
    """Swap students between rooms (in place) until no room holds more than ceil(n/2) of one
    class, where the session's numbers allow it. Returns the number of swaps."""
    m = len(rooms_members)
    if m == 0:
        return 0
    cap_half = [(len(r) + 1) // 2 for r in rooms_members]
    counts = [Counter(cls[i] for i in r) for r in rooms_members]
    total = Counter()
    for c in counts:
        total.update(c)
    limit_total = sum(cap_half)
    hopeless = {x for x, n in total.items() if n > limit_total}
    swaps = 0
    for r in range(m):
        while True:
            over = [x for x, n in counts[r].items() if n > cap_half[r] and x not in hopeless]
            if not over:
                break
            x = max(over, key=lambda c: (counts[r][c] - cap_half[r], str(c)))
            # nearest room with room for x
            s = None
            for d in range(1, m):
                for cand in (r + d, r - d):
                    if 0 <= cand < m and counts[cand][x] < cap_half[cand]:
                        s = cand
                        break
                if s is not None:
                    break
            if s is None:  # cannot happen when x is not hopeless; guard anyway
                hopeless.add(x)
                continue
            members_r = sorted(rooms_members[r], key=lambda i: pos[i])
            members_s = sorted(rooms_members[s], key=lambda i: pos[i])
            xs = [i for i in members_r if cls[i] == x]
            out_student = xs[-1] if s > r else xs[0]
            others = [i for i in members_s if cls[i] != x]
            if s < r:
                others.reverse()
            if subj is not None:
                same = [i for i in others if subj.get(i) == subj.get(out_student)]
                in_student = same[0] if same else others[0]
            else:
                in_student = others[0]
            y = cls[in_student]
            rooms_members[r].remove(out_student)
            rooms_members[s].remove(in_student)
            rooms_members[r].append(in_student)
            rooms_members[s].append(out_student)
            counts[r][x] -= 1
            counts[r][y] += 1
            counts[s][y] -= 1
            counts[s][x] += 1
            swaps += 1
    for r in rooms_members:
        r.sort(key=lambda i: pos[i])
    return swaps


# --------------------------------------------------------------------------------------------
# sessions
# --------------------------------------------------------------------------------------------
@dataclass
class SessionSeats:
    session: int
    layout: int  # identical seatings share a layout id
    rows: list[tuple[int, str, int, str]]  # (roster row, room, seat, subject)
    rooms_used: list[str]
    adjacent_pairs: int  # same-class neighbours left (0 unless unavoidable)


@dataclass
class SeatingPlan:
    sessions: list[SessionSeats]
    order_used: str
    swaps: int
    notes: list[str] = field(default_factory=list)


def rooms_needed(n_students: int, rooms: Sequence[Room]) -> int:
    """How many rooms (from the first) the fill-in-order uses for `n_students`."""
    left, k = n_students, 0
    for r in rooms:
        if left <= 0:
            break
        if r.capacity > 0:
            left -= r.capacity
        k += 1
    return k


def seating_problems(timetable: Timetable, rooms: Sequence[Room]) -> list[str]:
    """Sessions with more students than seats (with the numbers)."""
    seats = sum(r.capacity for r in rooms)
    out = []
    for s in timetable.sessions:
        n = sum(len(timetable.sitters[c]) for c in s.subjects)
        if n > seats:
            out.append(f"session {s.no} ({', '.join(s.subjects)}): {n} students but the {len(rooms)} rooms "
                       f"have {seats} seats ({n - seats} short)")
    return out


def seat_sessions(
    timetable: Timetable,
    rooms: Sequence[Room],
    class_ids: Sequence[str],
    pos: Sequence[int],
    order_used: str,
) -> SeatingPlan:
    """Seat every session of the timetable (see the module docstring)."""
    problems = seating_problems(timetable, rooms)
    if problems:
        raise InfeasibleArrangement(problems)
    rooms_in_use = [r for r in rooms if r.capacity > 0]
    # identical student order and subject grouping -> identical seats (core sessions)
    cache: dict[tuple, tuple] = {}
    out: list[SessionSeats] = []
    notes: list[str] = []
    total_swaps = 0
    for sess in timetable.sessions:
        subj_of: dict[int, str] = {}
        groups: list[list[int]] = []
        for code in sess.subjects:
            g = sorted(timetable.sitters[code], key=lambda i: pos[i])
            for i in g:
                subj_of[i] = code
            groups.append(g)
        ordered = [i for g in groups for i in g]
        key = (tuple(ordered), tuple(len(g) for g in groups))
        if key not in cache:
            cache[key] = _seat_one(ordered, subj_of, rooms_in_use, class_ids, len(cache) + 1)
            total_swaps += cache[key][4]
        layout, base, used, pairs, _swaps, sess_notes = cache[key]
        out.append(SessionSeats(sess.no, layout, [(i, room, seat, subj_of[i]) for i, room, seat in base],
                                used, pairs))
        notes += [n.replace("{session}", str(sess.no)) for n in sess_notes]
    return SeatingPlan(out, order_used, total_swaps, notes)


def _seat_one(ordered: list[int], subj_of: Mapping[int, str], rooms_in_use: Sequence[Room],
              class_ids: Sequence[Any], layout: int):
    rank = {i: k for k, i in enumerate(ordered)}  # position inside the session
    members: list[list[int]] = []
    used_rooms: list[Room] = []
    k = 0
    for room in rooms_in_use:
        if k >= len(ordered):
            break
        take = ordered[k:k + room.capacity]
        k += len(take)
        members.append(list(take))
        used_rooms.append(room)
    swaps = balance_rooms(members, class_ids, rank, subj_of)
    base: list[tuple[int, str, int]] = []
    pairs = 0
    sess_notes: list[str] = []
    bound = sum((len(m) + 1) // 2 for m in members)
    for room, mem in zip(used_rooms, members):
        seq = arrange_room(mem, class_ids, subj_of)
        p = sum(1 for a, b in zip(seq, seq[1:]) if class_ids[a] == class_ids[b])
        if p:
            cnt = Counter(class_ids[i] for i in mem)
            top, top_n = cnt.most_common(1)[0]
            in_session = sum(1 for i in ordered if class_ids[i] == top)
            sess_notes.append(
                f"session {{session}} room {room.room}: {p} same-class neighbour pair(s) unavoidable (class {top} "
                f"has {top_n} of the {len(mem)} students in the room and {in_session} in the session, more than "
                f"the {bound} seats that can keep a class apart)")
            pairs += p
        for seat, i in enumerate(seq, start=1):
            base.append((i, room.room, seat))
    return layout, base, [r.room for r in used_rooms], pairs, swaps, sess_notes


def numbering_session(timetable: Timetable, subjects: Sequence[SubjectInfo]) -> Session:
    core = {s.code for s in subjects if s.role == "core"}
    for s in timetable.sessions:
        if core & set(s.subjects):
            return s
    return max(timetable.sessions, key=lambda s: (sum(len(timetable.sitters[c]) for c in s.subjects), -s.no))


def exam_numbers(
    plan: SeatingPlan,
    timetable: Timetable,
    subjects: Sequence[SubjectInfo],
    rooms: Sequence[Room],
    fmt: str,
    n_students: int,
) -> tuple[int, list[str]]:
    """Exam numbers from `fmt` and the numbering session's seats: (session number, number per
    roster row). Raises InfeasibleArrangement when a student is not in that session or two
    students would share a number."""
    sess = numbering_session(timetable, subjects)
    seats = next(s for s in plan.sessions if s.session == sess.no)
    by_room = {r.room: r for r in rooms}
    numbers: list[str | None] = [None] * n_students
    for i, room, seat, _subj in seats.rows:
        r = by_room[room]
        numbers[i] = fmt.format(room=r.number, seat=seat, room_name=r.room, session=sess.no)
    missing = sum(1 for x in numbers if x is None)
    if missing:
        raise InfeasibleArrangement([
            f"exam_no_format numbers students by their seat in session {sess.no}, but {missing} of the "
            f"{n_students} students do not sit that session"])
    dup = [x for x, c in Counter(numbers).items() if c > 1]
    if dup:
        raise InfeasibleArrangement([
            f"exam_no_format {fmt!r} gives {len(dup)} exam numbers to more than one student "
            f"(e.g. {dup[0]}): include both {{room}} and {{seat}}"])
    return sess.no, numbers  # type: ignore[return-value]
