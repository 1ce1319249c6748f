"""Timetable (rules.md §10): every subject gets a session; no student has two subjects in one
session; the fewest sessions; pinned subjects respected.

Who sits what: the rule scoring expects scripts by (staging.expected), the `sits` macro of
sql/macros.sql, evaluated by DuckDB over the roster frame: core subjects everyone; a first-choice
subject the students of its track (and students of no track whose electives name it); a reselect
subject those whose electives name it; with no electives on the roster at all, everyone sits
everything their track allows.

The conflict graph
- One node per subject; an edge when at least one student sits both (student sets are Python
  int bitmasks, so the test is `a & b`). Core subjects are therefore adjacent to every subject
  somebody sits. The graph is built from the students' actual elective combinations, so a
  combination nobody chose costs no session.
- The two first-choice subjects share a session by default (`first_choice_together`, default
  true): they are merged into one node (nobody sits both). They are kept apart when they are
  pinned to different sessions, when the setting is false, or when some student sits both.

Exact colouring (no OR-Tools: the graphs have at most ~12 nodes)
- Sessions are colours. For k = lower bound, lower bound + 1, ... a backtracking search asks
  whether the nodes can be coloured with k colours, pinned subjects carrying the colour of
  their session. Free colours (sessions not named by a pin) are interchangeable, so a node may
  only open the lowest unused free colour (symmetry breaking); pinned nodes are placed first,
  the rest in descending degree order. The first k with a colouring is the optimum: every
  smaller k was refuted by an exhaustive search. The lower bound is the largest of the
  number of distinct pinned sessions and the size of a greedy clique.
- Among the optimal colourings the search keeps the one with the smallest largest session
  (branch and bound on the headcount of the biggest session, capped at `SEARCH_NODE_LIMIT`
  search nodes, after which the best found so far is kept; optimality of k is unaffected).
  This keeps sessions within the seats when a grade has no core subject.
- Session numbers: pinned colour classes take their pinned number; the other classes take the
  lowest free numbers in the order of their first subject in exam.yaml (so 语文, 数学, 英语
  come first when nothing is pinned, then the first-choice pair, then the reselect groups).

Sessions (`arrangement.sessions` in exam.yaml, read by `examflow.arrange.settings`): the time
slots available, in order; without them two a day from the exam date.

Infeasible requests raise `InfeasibleArrangement` (a ValueError) with the numbers: two pinned
subjects that share students in one session, a pin beyond the sessions available, more
sessions needed than available.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import duckdb
import polars as pl

from examflow.arrange.settings import ArrangementSettings, default_sessions

__all__ = [
    "InfeasibleArrangement",
    "Session",
    "SubjectInfo",
    "Timetable",
    "colour_exact",
    "conflict_graph",
    "normalise_subjects",
    "plan_timetable",
    "sitters_by_subject",
]

SEARCH_NODE_LIMIT = 300_000
ROLES = ("core", "first_choice", "reselect")


class InfeasibleArrangement(ValueError):
    """The arrangement asked for cannot be made; the message carries the numbers.
    `problems` lists every reason found (all are checked before anything is written)."""

    def __init__(self, problems: str | Sequence[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("infeasible arrangement: " + "; ".join(self.problems))


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubjectInfo:
    code: str
    name: str
    role: str  # core / first_choice / reselect
    order: int  # position in exam.yaml


def normalise_subjects(subjects: Iterable[Any]) -> list[SubjectInfo]:
    """Subjects as dicts {code, name, role} or objects with those attributes."""
    out: list[SubjectInfo] = []
    seen: set[str] = set()
    for i, s in enumerate(subjects):
        get = s.get if isinstance(s, Mapping) else (lambda k, d=None, _s=s: getattr(_s, k, d))
        code = str(get("code") or "").strip()
        if not code:
            raise ValueError(f"subject #{i + 1} has no code")
        if code in seen:
            raise ValueError(f"subject {code} is listed twice")
        seen.add(code)
        role = str(get("role") or "core")
        if role not in ROLES:
            raise ValueError(f"subject {code}: role {role!r} is not one of {ROLES}")
        out.append(SubjectInfo(code, str(get("name") or code), role, i))
    if not out:
        raise ValueError("no subjects to arrange")
    return out


def sitters_by_subject(roster: pl.DataFrame, subjects: Sequence[SubjectInfo]) -> dict[str, list[int]]:
    """Row indices (into `roster`) of the students who sit each subject, by the `sits` macro that
    staging.expected uses. `roster` has track and electives (codes) as staging.students makes them,
    and its electives_unused when it comes from there; without that column the roster carries no
    electives when no student has one."""
    from examflow import warehouse

    people = roster.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
        pl.col("track").cast(pl.String) if "track" in roster.columns else pl.lit(None, pl.String).alias("track"),
        pl.col("electives") if "electives" in roster.columns else pl.lit([], pl.List(pl.String)).alias("electives"),
        pl.col("electives_unused") if "electives_unused" in roster.columns
        else pl.lit(None, pl.Boolean).alias("electives_unused"))
    subj = pl.DataFrame({"code": [s.code for s in subjects], "name": [s.name for s in subjects],
                         "role": [s.role for s in subjects]}, schema={"code": pl.String, "name": pl.String,
                                                                      "role": pl.String})
    con = duckdb.connect()
    try:
        warehouse.prepare(con)
        con.register("people", people)
        con.register("subj", subj)
        found = dict(con.execute("""
            WITH p AS (
                SELECT *, coalesce(electives_unused, NOT coalesce(bool_or(len(electives) > 0) OVER (), false)) AS unused
                FROM people)
            SELECT s.code, list(p.i ORDER BY p.i) FROM subj s JOIN p
                ON sits(s.role, s.code, s.name, p.track, p.electives, p.unused)
            GROUP BY s.code""").fetchall())
    finally:
        con.close()
    return {s.code: found.get(s.code, []) for s in subjects}


# --------------------------------------------------------------------------------------------
# exact colouring
# --------------------------------------------------------------------------------------------
def conflict_graph(masks: Mapping[str, int]) -> dict[str, set[str]]:
    """Adjacency: two nodes conflict when their student bitmasks intersect."""
    nodes = list(masks)
    adj: dict[str, set[str]] = {u: set() for u in nodes}
    for i, u in enumerate(nodes):
        for v in nodes[i + 1:]:
            if masks[u] & masks[v]:
                adj[u].add(v)
                adj[v].add(u)
    return adj


def _greedy_clique(adj: Mapping[str, set[str]]) -> list[str]:
    best: list[str] = []
    for start in adj:
        clique = [start]
        cands = set(adj[start])
        while cands:
            v = max(sorted(cands), key=lambda x: len(adj[x] & cands))
            clique.append(v)
            cands &= adj[v]
        if len(clique) > len(best):
            best = clique
    return best


@dataclass
class ColouringResult:
    classes: list[list[str]]  # colour classes; pinned ones first, each tagged in `slot_of_class`
    slot_of_class: list[int | None]  # pinned session number, or None for a free class
    k: int  # number of colours = sessions used (optimal)
    lower_bound: int
    clique: list[str]
    complete: bool  # True when the headcount tie-break search finished (not cut by the limit)
    refuted: list[int]  # the k values proven impossible by exhaustive search


def colour_exact(
    masks: Mapping[str, int],
    pinned: Mapping[str, int] | None = None,
    order: Sequence[str] | None = None,
    node_limit: int = SEARCH_NODE_LIMIT,
) -> ColouringResult:
    """Minimum colouring of the conflict graph of `masks` with precoloured (pinned) nodes.
    Raises InfeasibleArrangement when two adjacent nodes are pinned to one session."""
    pinned = dict(pinned or {})
    nodes = list(order) if order is not None else list(masks)
    adj = conflict_graph({u: masks[u] for u in nodes})
    # pinned clashes
    problems = []
    pnodes = [u for u in nodes if u in pinned]
    for i, u in enumerate(pnodes):
        for v in pnodes[i + 1:]:
            if pinned[u] == pinned[v] and v in adj[u]:
                both = (masks[u] & masks[v]).bit_count()
                problems.append(f"{u} and {v} are both pinned to session {pinned[u]} but {both} students sit both")
    if problems:
        raise InfeasibleArrangement(problems)
    slots = sorted(set(pinned[u] for u in pnodes))
    p = len(slots)
    slot_index = {s: i for i, s in enumerate(slots)}
    clique = _greedy_clique(adj)
    lb = max(p, len(clique), 1 if nodes else 0)
    weight = {u: masks[u] for u in nodes}
    free_nodes = sorted((u for u in nodes if u not in pinned), key=lambda u: (-len(adj[u]), nodes.index(u)))
    seq = pnodes + free_nodes
    refuted: list[int] = []

    for k in range(lb, len(nodes) + p + 1):
        # colour c < p: pinned slot slots[c]; c >= p: free colours
        colour: dict[str, int] = {}
        unions = [0] * k
        members: list[list[str]] = [[] for _ in range(k)]
        best: dict[str, Any] = {"max": None, "colour": None}
        count = [0]
        stopped = [False]

        def place(u: str, c: int) -> int:
            colour[u] = c
            members[c].append(u)
            old = unions[c]
            unions[c] |= weight[u]
            return old

        def unplace(u: str, c: int, old: int) -> None:
            del colour[u]
            members[c].pop()
            unions[c] = old

        def search(i: int, opened: int, cur_max: int) -> None:
            if stopped[0]:
                return
            count[0] += 1
            if count[0] > node_limit and best["colour"] is not None:
                stopped[0] = True
                return
            if best["max"] is not None and cur_max >= best["max"]:
                return
            if i == len(seq):
                best["max"] = cur_max
                best["colour"] = dict(colour)
                return
            u = seq[i]
            if u in pinned:
                cands = [slot_index[pinned[u]]]
            else:
                cands = list(range(p + opened))
                if p + opened < k:
                    cands.append(p + opened)
            for c in cands:
                if any(colour.get(v) == c for v in adj[u]):
                    continue
                old = place(u, c)
                new_opened = opened + (1 if c == p + opened else 0)
                search(i + 1, new_opened, max(cur_max, unions[c].bit_count()))
                unplace(u, c, old)
                if stopped[0]:
                    return

        search(0, 0, 0)
        if best["colour"] is not None:
            col = best["colour"]
            classes: list[list[str]] = [[] for _ in range(k)]
            for u in nodes:  # keep exam.yaml order inside a class
                classes[col[u]].append(u)
            slot_of = [slots[c] if c < p else None for c in range(k)]
            keep = [c for c in range(k) if classes[c] or c < p]
            return ColouringResult(
                [classes[c] for c in keep], [slot_of[c] for c in keep], len(keep), lb, clique,
                not stopped[0], refuted,
            )
        refuted.append(k)
    raise AssertionError("unreachable: n colours always suffice")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# the timetable
# --------------------------------------------------------------------------------------------
@dataclass
class Session:
    no: int  # 1-based slot number
    starts_at: dt.datetime
    ends_at: dt.datetime
    subjects: list[str]  # codes, exam.yaml order

    @property
    def label(self) -> str:
        return f"第{self.no}场"


@dataclass
class Timetable:
    sessions: list[Session]  # non-empty sessions, by number
    session_of: dict[str, int]  # subject -> session number
    n_sessions: int  # = len(sessions), proven minimal
    lower_bound: int
    clique: list[str]  # a clique of the conflict graph (subjects); its size bounds n_sessions below
    refuted: list[int]  # session counts proven impossible
    graph: dict[str, set[str]]  # subject conflict graph
    sitters: dict[str, list[int]]  # subject -> roster row indices
    merged_first_choice: bool
    notes: list[str] = field(default_factory=list)

    def frame(self, subjects: Sequence[SubjectInfo]) -> pl.DataFrame:
        names = {s.code: s.name for s in subjects}
        rows = []
        for s in self.sessions:
            for code in s.subjects:
                rows.append({"session": s.no, "subject": code, "subject_name": names.get(code, code),
                             "starts_at": s.starts_at, "ends_at": s.ends_at,
                             "n_students": len(self.sitters.get(code, ()))})
        return pl.DataFrame(rows, schema={"session": pl.Int64, "subject": pl.String, "subject_name": pl.String,
                                          "starts_at": pl.Datetime("us"), "ends_at": pl.Datetime("us"),
                                          "n_students": pl.Int64})


def plan_timetable(
    roster: pl.DataFrame,
    subjects: Sequence[SubjectInfo],
    settings: ArrangementSettings,
) -> Timetable:
    """Assign every subject a session (see the module docstring)."""
    codes = [s.code for s in subjects]
    by_code = {s.code: s for s in subjects}
    for subj in settings.pinned:
        if subj not in by_code:
            raise ValueError(f"arrangement.pinned names {subj!r}, which is not a subject of this exam "
                             f"({', '.join(codes)})")
    sitters = sitters_by_subject(roster, subjects)
    masks = {c: _mask(sitters[c]) for c in codes}
    notes: list[str] = []

    # first-choice pair as one node
    fc = [s.code for s in subjects if s.role == "first_choice"]
    merged = False
    node_masks: dict[str, int] = {}
    members: dict[str, list[str]] = {}
    node_pins: dict[str, int] = {}
    fc_node = "+".join(fc)
    if settings.first_choice_together and len(fc) >= 2:
        pins = {settings.pinned[c] for c in fc if c in settings.pinned}
        overlap = 0
        for i, a in enumerate(fc):
            for b in fc[i + 1:]:
                overlap += (masks[a] & masks[b]).bit_count()
        if len(pins) > 1:
            notes.append(f"first-choice subjects {', '.join(fc)} are pinned to different sessions: kept apart")
        elif overlap:
            notes.append(f"{overlap} students sit more than one first-choice subject: they get separate sessions")
        else:
            merged = True
    for s in subjects:
        if merged and s.code in fc:
            if fc_node not in node_masks:
                node_masks[fc_node] = 0
                members[fc_node] = []
            node_masks[fc_node] |= masks[s.code]
            members[fc_node].append(s.code)
            if s.code in settings.pinned:
                node_pins[fc_node] = settings.pinned[s.code]
        else:
            node_masks[s.code] = masks[s.code]
            members[s.code] = [s.code]
            if s.code in settings.pinned:
                node_pins[s.code] = settings.pinned[s.code]

    # pins beyond the sessions available
    available = len(settings.sessions) if settings.sessions is not None else None
    problems = []
    if available is not None:
        for subj, no in settings.pinned.items():
            if no > available:
                problems.append(f"{subj} is pinned to session {no} but only {available} sessions are available")
    if problems:
        raise InfeasibleArrangement(problems)

    res = colour_exact(node_masks, node_pins, order=list(node_masks))
    # number the classes: pinned keep their slot, free take the lowest free slots in subject order
    pinned_slots = {s for s in res.slot_of_class if s is not None}
    free_classes = [i for i, s in enumerate(res.slot_of_class) if s is None]
    free_classes.sort(key=lambda i: min(by_code[m].order for node in res.classes[i] for m in members[node]))
    slot_for: dict[int, int] = {i: s for i, s in enumerate(res.slot_of_class) if s is not None}
    nxt = 1
    for i in free_classes:
        while nxt in pinned_slots:
            nxt += 1
        slot_for[i] = nxt
        nxt += 1
    needed = max(slot_for.values()) if slot_for else 0
    if available is not None and needed > available:
        largest_pin = max(pinned_slots, default=0)
        why = f"the subjects need {res.k} sessions"
        if largest_pin:
            why += f" (with pins up to session {largest_pin}: the last one used is session {needed})"
        raise InfeasibleArrangement([f"{why} but only {available} sessions are available"])
    times = settings.sessions if settings.sessions is not None else default_sessions(settings.exam_date, needed)
    session_of: dict[str, int] = {}
    sessions: list[Session] = []
    for i, cls in enumerate(res.classes):
        no = slot_for[i]
        subj_codes = sorted((m for node in cls for m in members[node]), key=lambda c: by_code[c].order)
        for c in subj_codes:
            session_of[c] = no
        a, b = times[no - 1]
        sessions.append(Session(no, a, b, subj_codes))
    sessions.sort(key=lambda s: s.no)
    # graph over subjects (not merged nodes), for reporting and tests
    graph = conflict_graph(masks)
    clique_subjects = [members[n][0] for n in res.clique]
    if not res.complete:
        notes.append("timetable: the tie-break on session size stopped at the search limit; the session "
                     "count is still minimal")
    empty = [c for c in codes if not sitters[c]]
    if empty:
        notes.append(f"nobody sits {', '.join(empty)}: scheduled without students")
    return Timetable(sessions, session_of, len(sessions), res.lower_bound, clique_subjects, res.refuted, graph,
                     sitters, merged, notes)


def _mask(indices: Iterable[int]) -> int:
    m = 0
    for i in indices:
        m |= 1 << i
    return m
