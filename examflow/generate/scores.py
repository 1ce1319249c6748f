"""Scripts and marks: ability-driven responses to objective items (IRT-like), subjective marks, and
double marking with its arbitrations, vectorised per subject."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from examflow.generate.common import NUM_BASE, POPCOUNT, expit, half_up_05, seeded_rng
from examflow.generate.subjects import Item, Subject
from examflow.generate.world import World

ROW_FIELDS = ("stu", "exam_no", "absent", "pages", "version", "choice", "codes", "obj", "subj", "has_marks",
              "sheet", "dest")


class Rows:
    """One subject's scripts as parallel numpy arrays (one row per scanned sheet)."""

    def __init__(self, **kw):
        for f in ROW_FIELDS:
            setattr(self, f, kw[f])

    def __len__(self):
        return len(self.stu)

    def take(self, idx) -> "Rows":
        idx = np.asarray(idx, dtype=np.int64)
        return Rows(**{f: getattr(self, f)[idx].copy() for f in ROW_FIELDS})

    @staticmethod
    def cat(parts: list["Rows"]) -> "Rows":
        return Rows(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in ROW_FIELDS})


def _objective(rng, s: Subject, theta, version, present):
    R = len(theta)
    items = s.obj
    codes = np.zeros((R, len(items)), np.int16)
    scores = np.zeros((R, len(items)), np.float32)
    for j, it in enumerate(items):
        ka = it.key_a
        kb = it.key_b if it.key_b is not None else ka
        key = np.where(version == 2, kb, ka).astype(np.int64)
        z = 1.7 * it.a * (theta - it.b)
        u = rng.random(R)
        blank_u = rng.random(R)
        if it.type == "single":
            n = it.options
            c = 0.1 if n > 4 else 0.2
            p = c + (1 - c) * expit(z)
            kl = np.log2(key).astype(np.int64)
            w = 1.0 / np.arange(1, n) ** 0.7
            shifts = rng.choice(np.arange(1, n), size=R, p=w / w.sum())
            letter = np.where(u < p, kl, (kl + shifts) % n)
            code = (1 << letter).astype(np.int64)
            code[blank_u < 0.003 + 0.02 * expit(-1.5 * theta - 2.5)] = 0
            sc = np.where(code == key, it.full, 0.0)
        elif it.type == "multi":
            p = expit(z - 0.3)
            code = np.zeros(R, np.int64)
            cat_u = rng.random(R)
            pick = rng.random(R)
            for kv in np.unique(key):
                sel = key == kv
                subsets = np.array([m for m in range(1, 16) if m & kv == m and m != kv])
                wrongs = np.array([m for m in range(1, 16) if m & ~kv & 15])
                full_ = u < p
                part = ~full_ & (cat_u < 0.62)
                c_sub = subsets[np.minimum((pick * len(subsets)).astype(int), len(subsets) - 1)]
                ww = 1.0 / POPCOUNT[wrongs] ** 2.5            # wrong answers: mostly 1-2 letters
                c_wr = wrongs[np.minimum(np.searchsorted(np.cumsum(ww) / ww.sum(), pick), len(wrongs) - 1)]
                code[sel] = np.where(full_, kv, np.where(part, c_sub, c_wr))[sel]
            code[blank_u < 0.006 + 0.03 * expit(-1.5 * theta - 2)] = 0
            pc = POPCOUNT[code]
            pk = POPCOUNT[key]
            proper = (code != 0) & (code & ~key == 0) & (code != key)
            if it.partial is None:
                part_sc = it.full * pc / pk
            else:
                part_sc = np.full(R, float(it.partial))
            sc = np.where(code == key, it.full, np.where(proper, part_sc, 0.0))
        else:  # numeric
            p = expit(z)
            distract = np.array([v for v in (12, 18, 8, 32, 4, 15, 24) if v != ka])
            wrong = distract[rng.integers(len(distract), size=R)]
            val = np.where(u < p, key, wrong)
            code = NUM_BASE + val
            code[blank_u < 0.02 + 0.08 * expit(-1.5 * theta - 1)] = 0
            sc = np.where(val == key, it.full, 0.0)
            sc[code == 0] = 0.0
        codes[:, j] = code
        scores[:, j] = sc
    codes[~present] = 0
    scores[~present] = 0
    # a present script never comes out all blank by chance (ALL_BLANK is planted)
    allb = present & (codes == 0).all(axis=1)
    if allb.any() and items:
        codes[allb, 0] = items[0].key_a if items[0].type != "numeric" else NUM_BASE + items[0].key_a
    return codes, scores


def _subjective(rng, s: Subject, theta):
    R = len(theta)
    T = np.empty((R, len(s.subj)), np.float64)
    for j, it in enumerate(s.subj):
        lo, hi = (0.50, 0.80) if it.essay else (0.08, 0.94)
        f = lo + (hi - lo) * expit(1.7 * it.a * (theta - it.b))
        noise = rng.normal(0, (0.05 if it.essay else 0.08) * it.full + 0.25, R)
        T[:, j] = np.clip(np.round(it.full * f + noise), 0, it.full)
    return T


def base_rows(world: World, s: Subject, kind: str, students: np.ndarray, absent: np.ndarray,
              seed: int, tag: str = "base") -> Rows:
    """Scripts of `students` (already in scan order)."""
    rng = seeded_rng(seed, kind, tag, s.code)
    R = len(students)
    theta = s.spread * world.theta[(kind, s.code)][students].astype(np.float64)
    present = ~absent
    version = np.zeros(R, np.int8)
    if s.ab:
        version = (1 + world.exam_int[students] % 2).astype(np.int8)
        version[absent] = 0
    codes, obj = _objective(rng, s, theta, version, present)
    subj = _subjective(rng, s, theta)
    choice = np.full(R, "", dtype="<U8")
    if s.optional:
        ids = [it.id for it in s.subj]
        j18, j19 = ids.index(s.optional[0]), ids.index(s.optional[1])
        pick19 = rng.random(R) < expit(0.4 * theta - 0.2)
        choice = np.where(pick19, s.optional[1], s.optional[0]).astype("<U8")
        subj[pick19, j18] = np.nan
        subj[~pick19, j19] = np.nan
        choice[absent] = ""
    subj[absent] = np.nan
    return Rows(stu=students.astype(np.int64), exam_no=world.exam_no[students].astype("<U16"),
                absent=absent.copy(), pages=np.full(R, s.pages or 0, np.int8), version=version,
                choice=choice, codes=codes, obj=obj, subj=subj, has_marks=present.copy(),
                sheet=np.arange(1, R + 1, dtype=np.int64), dest=np.zeros(R, np.int8))


@dataclass
class Marks:
    marked: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    arb: np.ndarray
    m1: np.ndarray
    m2: np.ndarray
    flags: dict = field(default_factory=dict)          # (row, item index) -> text
    orphans: list = field(default_factory=list)        # (exam_no, s1[], s2[], arb[], m1[], m2[])

    def final(self) -> np.ndarray:
        mean = half_up_05((self.s1 + self.s2) / 2)
        f = np.where(np.isnan(self.s2), self.s1, mean)
        f = np.where(np.isnan(self.arb), f, self.arb)
        return np.where(self.marked, f, np.nan)


def tol_of(it: Item, default: float = 3) -> float:
    return it.tolerance if it.tolerance is not None else default


def mark_scripts(rng, s: Subject, T: np.ndarray, has_marks: np.ndarray, pool: np.ndarray) -> Marks:
    R, J = T.shape
    marked = has_marks[:, None] & ~np.isnan(T)
    s1 = np.full((R, J), np.nan)
    s2 = np.full((R, J), np.nan)
    arb = np.full((R, J), np.nan)
    m1 = np.full((R, J), -1, np.int64)
    m2 = np.full((R, J), -1, np.int64)
    P = len(pool)
    for j, it in enumerate(s.subj):
        t = T[:, j]
        i1 = rng.integers(P, size=R)
        m1[:, j] = pool[i1]
        if it.double:
            tol = tol_of(it)
            sig = min(tol / 2.9, 0.06 * it.full + 0.35)   # ~3-4 % of big items go to arbitration
            a1 = np.clip(np.round(t + rng.normal(0, sig, R)), 0, it.full)
            a2 = np.clip(np.round(t + rng.normal(0, sig, R)), 0, it.full)
            beyond = np.abs(a1 - a2) > tol
            ar = np.clip(np.round(t + rng.normal(0, sig / 2, R)), 0, it.full)
            s1[:, j] = a1
            s2[:, j] = a2
            arb[:, j] = np.where(beyond, ar, np.nan)
            m2[:, j] = pool[(i1 + rng.integers(1, max(2, P), size=R)) % P] if P > 1 else pool[i1]
        else:
            s1[:, j] = t
    return Marks(marked, s1, s2, arb, m1, m2)
