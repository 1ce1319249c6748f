"""Invigilation rota (rules.md §10): `invigilators_per_room` teachers (default 2) for every room
in use in every session.

Rules, in the order they are enforced
1. Enough teachers: a session with R rooms in use needs k*R distinct teachers; more than the
   pool -> `InfeasibleArrangement` with the numbers (before anything is written).
2. Nobody in two rooms at once: a teacher gets at most one room per session.
3. Load within one: with D duties in all and P teachers in the pool (every distinct
   teacher_id of the teachers table, heads and directors included), every teacher gets
   floor(D/P) or ceil(D/P) duties.
4. Own subject: a teacher does not invigilate a session holding a subject they teach (any row
   of theirs with that subject) while another teacher is free. For a session s let F_s be the
   teachers who teach none of its subjects. If |F_s| >= k*R_s only F_s invigilate; otherwise
   all of F_s invigilate and the remaining k*R_s - |F_s| come from the subject's own teachers.

How: rules 2-4 are one bipartite degree-constrained problem (teachers x sessions), solved
exactly as a flow with lower bounds (Dinic's max-flow on the usual circulation reduction):
source -> teacher [floor, ceil] duties; teacher -> session capacity 1 where allowed, lower bound
1 for the F_s teachers of a short session; session -> sink exactly k*R_s. If that flow does not
exist (rare: own-subject and load rules pulling against each other in a very tight pool), the
own-subject rule is relaxed step by step - first the "all of F_s" lower bounds, then the
restriction itself - the load rule still holds, and `notes` says which sessions were affected.

Rooms: inside a session the chosen teachers are dealt out round-robin over the rooms in a
seeded rotation, teachers clear of the session's subjects first, so a room gets at most one
subject teacher whenever possible; slot 1 is the room's 主监考 (lead invigilator).
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

import polars as pl

from examflow.arrange.timetable import InfeasibleArrangement

__all__ = ["Teacher", "Rota", "invigilation_problems", "normalise_teachers", "plan_invigilation"]


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    name: str
    subjects: frozenset[str]


def normalise_teachers(teachers: pl.DataFrame) -> list[Teacher]:
    """The invigilator pool: one entry per distinct teacher_id, with every subject they teach."""
    if teachers is None or teachers.height == 0:
        return []
    if "teacher_id" not in teachers.columns:
        raise ValueError("teachers need a teacher_id column")
    names: dict[str, str] = {}
    subjects: dict[str, set[str]] = {}
    name_col = teachers["name"].to_list() if "name" in teachers.columns else [None] * teachers.height
    subj_col = teachers["subject"].to_list() if "subject" in teachers.columns else [None] * teachers.height
    for tid, name, subj in zip(teachers["teacher_id"].to_list(), name_col, subj_col):
        if tid is None or str(tid).strip() == "":
            continue
        tid = str(tid).strip()
        subjects.setdefault(tid, set())
        if name and tid not in names:
            names[tid] = str(name)
        if subj not in (None, ""):
            subjects[tid].add(str(subj))
    return [Teacher(t, names.get(t, t), frozenset(subjects[t])) for t in sorted(subjects)]


def invigilation_problems(rooms_per_session: dict[int, int], k: int, pool: int) -> list[str]:
    out = []
    for s, r in sorted(rooms_per_session.items()):
        if r * k > pool:
            out.append(f"session {s} uses {r} rooms x {k} invigilators = {r * k} teachers but the pool has "
                       f"{pool} teachers ({r * k - pool} short)")
    return out


# --------------------------------------------------------------------------------------------
# max flow (Dinic) with lower bounds
# --------------------------------------------------------------------------------------------
class _Dinic:
    def __init__(self, n: int):
        self.n = n
        self.to: list[int] = []
        self.cap: list[int] = []
        self.head: list[list[int]] = [[] for _ in range(n)]

    def add(self, u: int, v: int, c: int) -> int:
        self.to.append(v)
        self.cap.append(c)
        self.head[u].append(len(self.to) - 1)
        self.to.append(u)
        self.cap.append(0)
        self.head[v].append(len(self.to) - 1)
        return len(self.to) - 2

    def maxflow(self, s: int, t: int) -> int:
        flow = 0
        to, cap, head = self.to, self.cap, self.head
        while True:
            level = [-1] * self.n
            level[s] = 0
            q = deque([s])
            while q:
                u = q.popleft()
                for e in head[u]:
                    if cap[e] > 0 and level[to[e]] < 0:
                        level[to[e]] = level[u] + 1
                        q.append(to[e])
            if level[t] < 0:
                return flow
            it = [0] * self.n

            def dfs(u: int, f: int) -> int:
                if u == t:
                    return f
                while it[u] < len(head[u]):
                    e = head[u][it[u]]
                    v = to[e]
                    if cap[e] > 0 and level[v] == level[u] + 1:
                        d = dfs(v, min(f, cap[e]))
                        if d:
                            cap[e] -= d
                            cap[e ^ 1] += d
                            return d
                    it[u] += 1
                return 0

            while True:
                f = dfs(s, 1 << 30)
                if not f:
                    break
                flow += f


class _LowerBoundFlow:
    """Feasible flow with lower and upper bounds on edges, source S and sink T."""

    def __init__(self, n: int):
        self.n = n
        self.edges: list[tuple[int, int, int, int]] = []

    def add(self, u: int, v: int, lo: int, hi: int) -> int:
        self.edges.append((u, v, lo, hi))
        return len(self.edges) - 1

    def solve(self, s: int, t: int) -> list[int] | None:
        """Flow per edge, or None when no feasible flow exists."""
        n = self.n
        ss, tt = n, n + 1
        g = _Dinic(n + 2)
        excess = [0] * n
        handles = []
        for u, v, lo, hi in self.edges:
            if hi < lo:
                return None
            handles.append(g.add(u, v, hi - lo))
            excess[v] += lo
            excess[u] -= lo
        g.add(t, s, 1 << 30)
        need = 0
        for x in range(n):
            if excess[x] > 0:
                g.add(ss, x, excess[x])
                need += excess[x]
            elif excess[x] < 0:
                g.add(x, tt, -excess[x])
        if g.maxflow(ss, tt) != need:
            return None
        out = []
        for (u, v, lo, hi), h in zip(self.edges, handles):
            out.append(lo + (hi - lo - g.cap[h]))
        return out


# --------------------------------------------------------------------------------------------
# the rota
# --------------------------------------------------------------------------------------------
@dataclass
class Rota:
    rows: list[tuple[int, str, int, str]]  # (session, room, slot, teacher_id)
    load: dict[str, int]  # duties per teacher (every pool member, zeros included)
    own_subject_duties: int  # duties where a teacher invigilates a subject they teach
    notes: list[str] = field(default_factory=list)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [{"session": s, "room": r, "slot": k, "teacher_id": t} for s, r, k, t in self.rows],
            schema={"session": pl.Int64, "room": pl.String, "slot": pl.Int64, "teacher_id": pl.String},
        )


def plan_invigilation(
    sessions: Sequence[tuple[int, list[str], list[str]]],
    teachers: Sequence[Teacher],
    k: int,
    seed: int = 0,
) -> Rota:
    """`sessions`: (session number, subject codes, rooms in use). See the module docstring."""
    pool = len(teachers)
    problems = invigilation_problems({s: len(r) for s, _, r in sessions}, k, pool)
    if problems:
        raise InfeasibleArrangement(problems)
    need = {s: k * len(r) for s, _, r in sessions}
    total = sum(need.values())
    notes: list[str] = []
    if total == 0:
        return Rota([], {t.teacher_id: 0 for t in teachers}, 0, notes)
    lo_load, rem = divmod(total, pool)
    hi_load = lo_load + (1 if rem else 0)
    clear = {s: [i for i, t in enumerate(teachers) if not (t.subjects & set(subj))] for s, subj, _ in sessions}

    def attempt(mode: int) -> dict[int, list[int]] | None:
        # mode 0: strict; 1: no "all of F_s" lower bounds; 2: any teacher anywhere
        S = 0
        T = 1
        tnode = lambda i: 2 + i  # noqa: E731
        snode = {s: 2 + pool + j for j, (s, _, _) in enumerate(sessions)}
        f = _LowerBoundFlow(2 + pool + len(sessions))
        for i in range(pool):
            f.add(S, tnode(i), lo_load, hi_load)
        handles: dict[tuple[int, int], int] = {}
        for s, _subj, _rooms in sessions:
            free = set(clear[s])
            short = len(free) < need[s]
            for i in range(pool):
                if mode < 2 and not short and i not in free:
                    continue
                lo = 1 if (mode == 0 and short and i in free) else 0
                handles[(i, s)] = f.add(tnode(i), snode[s], lo, 1)
            f.add(snode[s], T, need[s], need[s])
        flow = f.solve(S, T)
        if flow is None:
            return None
        chosen: dict[int, list[int]] = {s: [] for s, _, _ in sessions}
        for (i, s), h in handles.items():
            if flow[h]:
                chosen[s].append(i)
        return chosen

    chosen = None
    for mode in (0, 1, 2):
        chosen = attempt(mode)
        if chosen is not None:
            if mode == 1:
                notes.append("invigilation: the own-subject rule and the load rule clash in this pool; some "
                             "short sessions use a subject teacher while a teacher clear of the subject is free")
            elif mode == 2:
                notes.append("invigilation: the own-subject rule had to be relaxed to keep loads within one")
            break
    assert chosen is not None  # mode 2 always has a solution when every session fits in the pool

    rng = random.Random(seed)
    rows: list[tuple[int, str, int, str]] = []
    load = {t.teacher_id: 0 for t in teachers}
    own = 0
    for s, subj, rooms in sessions:
        ids = chosen[s]
        subj_set = set(subj)
        ids = sorted(ids, key=lambda i: teachers[i].teacher_id)
        rng.shuffle(ids)
        ids.sort(key=lambda i: bool(teachers[i].subjects & subj_set))  # clear teachers first (stable)
        for j, i in enumerate(ids):
            room = rooms[j % len(rooms)]
            slot = j // len(rooms) + 1
            rows.append((s, room, slot, teachers[i].teacher_id))
            load[teachers[i].teacher_id] += 1
            if teachers[i].subjects & subj_set:
                own += 1
    room_pos = {(no, room): j for no, _, rooms_ in sessions for j, room in enumerate(rooms_)}
    rows.sort(key=lambda r: (r[0], room_pos[(r[0], r[1])], r[2]))
    if own:
        notes.append(f"invigilation: {own} duties go to teachers of the session's own subject because too few "
                     "other teachers are free in those sessions")
    return Rota(rows, load, own, notes)

