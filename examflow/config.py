"""exam.yaml (over an optional school.yaml beside the exam folders) and items.csv|xlsx, validated
on load: a configuration error is reported before anything runs (inputs.md, rules.md)."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from examflow import yamlfile
from examflow.errors import ContractError
from examflow.tables import read_table

EXAM_ID = re.compile(r"[a-z0-9_-]{1,64}")
SUBJECT_CODE = re.compile(r"[a-z0-9_]+")
ITEM_TYPES = ("single", "multi", "numeric", "subjective")
ROLES = ("core", "first_choice", "reselect")

DEFAULTS: dict = {
    "thresholds": {"excellent": 0.85, "good": 0.75, "pass": 0.60, "low": 0.40},
    "three_rates_weights": {"mean": 0.4, "pass": 0.4, "excellent": 0.2, "low": 0.0},
    "rank_bands": [10, 20, 50, 100, 200, 500, 1000],
    "borderline_band": 10,
    "double_mark_tolerance": 3,
    "cut_lines": {},
    "conversion": [
        {"band": "A", "share": 0.15, "low": 86, "high": 100},
        {"band": "B", "share": 0.35, "low": 71, "high": 85},
        {"band": "C", "share": 0.35, "low": 56, "high": 70},
        {"band": "D", "share": 0.13, "low": 41, "high": 55},
        {"band": "E", "share": 0.02, "low": 30, "high": 40},
    ],
    "teacher_quant": {"weights": None, "relative": False},
    "omr": {"exam_no_fields": ["Roll"], "item_prefix": "q", "empty_value": "", "paper_version_field": None},
}


@dataclass
class Item:
    subject: str
    item: str
    type: str
    full: float
    position: int
    key: str | None = None
    keys: dict[str, str] = field(default_factory=dict)  # paper version -> key (AB卷)
    knowledge: str | None = None
    tolerance: float | None = None
    options: int = 4
    partial: str = "per_option"  # or a fixed number of points, as text
    group: int | None = None  # index of its optional group
    source_file: str = "exam.yaml"
    source_row: int | None = None


@dataclass
class Subject:
    code: str
    name: str
    full: float
    role: str = "core"
    pages: int | None = None
    items: list[Item] = field(default_factory=list)
    optional_groups: list[dict] = field(default_factory=list)

    @property
    def uses_versions(self) -> bool:
        return any(i.keys for i in self.items)


@dataclass
class ExamConfig:
    id: str
    name: str
    date: str
    grade: str
    previous: str | None
    subjects: list[Subject]
    settings: dict
    source_file: str = "exam.yaml"

    def subject(self, text: str) -> Subject | None:
        """A subject by its code or its Chinese name (as a file name or a 科目 cell gives it)."""
        t = text.strip().lower()
        return next((s for s in self.subjects if t in (s.code, s.name.lower())), None)

    def subject_in_name(self, text: str) -> Subject | None:
        """The subject a file or folder name names (`数学.csv`, `math_batch2.xlsx`, `化学小题分.csv`)."""
        t = text.lower()
        tokens = set(re.split(r"[^a-z0-9]+", t))
        hits = [s for s in self.subjects if s.code in tokens or s.name.lower() in t]
        return max(hits, key=lambda s: len(s.name), default=None) if hits else None


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _number(value, what: str, file: str, row: int | None = None, column: str | None = None) -> float:
    try:
        n = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ContractError(f"{what} must be a number, got {value!r}", file, row, column) from None
    if not n.is_finite() or n < 0:
        raise ContractError(f"{what} must be a non-negative number, got {value!r}", file, row, column)
    return float(n)


def _parse_key(raw, item: Item, file: str, row, column) -> None:
    if raw is None or str(raw).strip() == "":
        if item.type != "subjective":
            raise ContractError(f"objective item {item.subject}/{item.item} has no key", file, row, column)
        return
    if isinstance(raw, str) and "=" in raw:
        raw = dict(part.split("=", 1) for part in re.split(r"[;；,]", raw) if part.strip())
    def norm(key) -> str:  # option letters as a sorted set, as the scoring compares them
        text = str(key).strip().upper()
        return text if item.type == "numeric" else "".join(sorted(set(text)))

    if isinstance(raw, dict):
        item.keys = {str(k).strip().upper(): norm(v) for k, v in raw.items()}
        keys = list(item.keys.values())
    else:
        item.key = norm(raw)
        keys = [item.key]
    letters = "ABCDEFGHIJ"[: item.options]
    for key in keys:
        ok = key.isdigit() if item.type == "numeric" else (key and all(ch in letters for ch in key))
        if item.type == "single" and len(key) != 1:
            ok = False
        if not ok:
            raise ContractError(
                f"item {item.subject}/{item.item}: key {key!r} is not valid for a {item.type} item "
                f"with options {letters}", file, row, column)


def _make_item(d: dict, subject: str, position: int, file: str, row: int | None = None,
               cols: dict | None = None) -> Item:
    cols = cols or {}
    item_id = str(d.get("id", d.get("item", ""))).strip()
    if not item_id:
        raise ContractError(f"an item of subject {subject} has no id", file, row, cols.get("item"))
    kind = str(d.get("type", "")).strip().lower()
    kind = {"单选": "single", "多选": "multi", "数字": "numeric", "填空": "numeric", "主观": "subjective",
            "主观题": "subjective", "单选题": "single", "多选题": "multi"}.get(kind, kind)
    if kind not in ITEM_TYPES:
        raise ContractError(f"item {subject}/{item_id}: type {d.get('type')!r} is not one of {ITEM_TYPES}",
                            file, row, cols.get("type"))
    item = Item(subject, item_id, kind, _number(d.get("full"), f"full marks of item {subject}/{item_id}",
                                                 file, row, cols.get("full")), position,
                source_file=file, source_row=row)
    if d.get("options") not in (None, ""):
        item.options = int(_number(d["options"], "options", file, row, cols.get("options")))
    if d.get("knowledge") not in (None, ""):
        item.knowledge = str(d["knowledge"]).strip()
    if d.get("tolerance") not in (None, ""):
        item.tolerance = _number(d["tolerance"], "tolerance", file, row, cols.get("tolerance"))
    if d.get("partial") not in (None, ""):
        p = str(d["partial"]).strip()
        item.partial = p if p == "per_option" else str(_number(p, "partial", file, row, cols.get("partial")))
    _parse_key(d.get("key"), item, file, row, cols.get("key"))
    return item


def _items_file(folder: Path, cfg: ExamConfig) -> dict[str, list[Item]]:
    files = [p for p in folder.iterdir() if p.stem.lower() == "items" and p.suffix.lower() in (".csv", ".xlsx")]
    out: dict[str, list[Item]] = {}
    for path in files:
        table = read_table(path, path.name, ["items"])
        label = {canon: table.column_label(c) for canon, c in table.columns.items()}
        for rec in table.body.iter_rows(named=True):
            d = {canon: rec[c] for canon, c in table.columns.items()}
            subj = cfg.subject(d.get("subject") or "")
            if subj is None:
                raise ContractError(f"unknown subject {d.get('subject')!r}", path.name, rec["source_row"],
                                    label["subject"])
            items = out.setdefault(subj.code, [])
            items.append(_make_item(d, subj.code, len(items), path.name, rec["source_row"], label))
    return out


def load_exam(folder: Path) -> ExamConfig:
    """Load and validate `folder/exam.yaml` (over `../school.yaml`) and its item table."""
    path = folder / "exam.yaml"
    if not path.exists():
        alt = folder / "exam.yml"
        if not alt.exists():
            raise ContractError("exam.yaml is missing: every exam folder needs one", str(path))
        path = alt
    fname = path.name
    raw = _anchor_printing(_read_yaml(path, fname), folder, fname)
    school = folder.parent / "school.yaml"
    school_settings = _anchor_printing(_read_yaml(school, "school.yaml"), school.parent, "school.yaml") \
        if school.exists() else {}
    settings = _merge(DEFAULTS, school_settings)
    settings = _merge(settings, {k: v for k, v in raw.items() if k not in ("id", "subjects")})
    exam_id = str(raw.get("id", "")).strip()
    if not EXAM_ID.fullmatch(exam_id):
        raise ContractError(f"invalid exam id {raw.get('id')!r}: it must match [a-z0-9_-]{{1,64}}", fname,
                            column="id")
    subjects_raw = raw.get("subjects") or []
    if not isinstance(subjects_raw, list) or not subjects_raw:
        raise ContractError("exam.yaml lists no subjects", fname, column="subjects")
    cfg = ExamConfig(exam_id, str(raw.get("name") or exam_id), str(raw.get("date") or ""),
                     str(raw.get("grade") or ""), raw.get("previous") and str(raw["previous"]), [], settings, fname)
    for s in subjects_raw:
        code = str(s.get("code", "")).strip()
        if not SUBJECT_CODE.fullmatch(code):
            raise ContractError(f"invalid subject code {code!r}: it must match [a-z0-9_]+", fname, column="code")
        if cfg.subject(code):
            raise ContractError(f"subject {code} is listed twice", fname, column="code")
        role = str(s.get("role") or "core")
        if role not in ROLES:
            raise ContractError(f"subject {code}: role {role!r} is not one of {ROLES}", fname, column="role")
        subj = Subject(code, str(s.get("name") or code), _number(s.get("full"), f"full marks of {code}", fname),
                       role, s.get("pages") and int(s["pages"]), optional_groups=list(s.get("optional_groups") or []))
        subj.items = [_make_item(d, code, i, fname) for i, d in enumerate(s.get("items") or [])]
        cfg.subjects.append(subj)
    from_file = _items_file(folder, cfg)
    for subj in cfg.subjects:
        if subj.code in from_file:
            if subj.items:
                raise ContractError(f"subject {subj.code} has items both inline in exam.yaml and in the item "
                                    "table: give them in one place", from_file[subj.code][0].source_file)
            subj.items = from_file[subj.code]
        if not subj.items:
            raise ContractError(f"subject {subj.code} has no items (inline in exam.yaml or in items.csv|xlsx)",
                                fname, column="items")
        _check_subject(subj, fname)
    from examflow.settings_check import check_settings

    check_settings(cfg.settings, fname)
    return cfg


PRINTING_KEYS = {"font": "a font file for the PDFs", "templates": "a folder of templates over the package's",
                 "school": "the school's name, printed under the title"}


def _anchor_printing(data: dict, base: Path, name: str) -> dict:
    """`printing:` of school.yaml / exam.yaml checked, its paths made absolute from the file's own
    folder (the printouts run later, from the warehouse, wherever the command was started)."""
    p = data.get("printing")
    if p is None:
        return data
    if not isinstance(p, dict):
        raise ContractError(f"printing must be a mapping, got {p!r}", name, column="printing")
    unknown = set(p) - set(PRINTING_KEYS)
    if unknown:
        raise ContractError(f"printing: unknown keys {sorted(unknown)} (use "
                            + ", ".join(f"{k}: {v}" for k, v in PRINTING_KEYS.items()) + ")", name, column="printing")
    out = dict(p)
    for key in ("font", "templates"):
        if out.get(key) is not None:
            path = Path(str(out[key])).expanduser()
            out[key] = str(path if path.is_absolute() else (base / path).resolve())
    if out.get("templates") and not Path(out["templates"]).is_dir():
        raise ContractError(f"printing.templates: no folder {out['templates']}", name, column="printing.templates")
    return {**data, "printing": out}


def _read_yaml(path: Path, name: str) -> dict:
    try:
        data = yamlfile.read(path)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ContractError(f"not valid YAML: {e}", name) from None
    if not isinstance(data, dict):
        raise ContractError("must be a YAML mapping", name)
    return data


def _check_subject(subj: Subject, fname: str) -> None:
    ids = [i.item for i in subj.items]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ContractError(f"subject {subj.code}: item ids repeated: {sorted(dup)}", fname)
    counted = {i.item: i.full for i in subj.items}
    for g_idx, g in enumerate(subj.optional_groups):
        members = [str(x) for x in g.get("items", [])]
        choose = int(g.get("choose", 1))
        missing = [m for m in members if m not in counted]
        if missing or not 0 < choose < len(members):
            raise ContractError(f"subject {subj.code}: optional group {members} (choose {choose}) names unknown "
                                f"items {missing} or an impossible choice", fname, column="optional_groups")
        fulls = {counted[m] for m in members}
        if len(fulls) != 1:
            raise ContractError(f"subject {subj.code}: the items of optional group {members} must carry equal "
                                "full marks", fname, column="optional_groups")
        for it in subj.items:
            if it.item in members:
                it.group = g_idx
        for m in members[choose:]:
            counted[m] = 0.0
        g["items"], g["choose"] = members, choose
    total = sum(counted.values())
    if subj.items and abs(total - subj.full) > 1e-9:
        raise ContractError(f"subject {subj.code}: items add up to {total:g} but the subject's full marks are "
                            f"{subj.full:g}", subj.items[0].source_file, column="full")
