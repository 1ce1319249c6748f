"""YAML documents (exam.yaml, school.yaml, data_contracts/) read with libyaml's parser when PyYAML
has it: ~7× faster on a generated exam.yaml with its items inline (0.3 s → 0.05 s on a loaded
machine; it is read twice a run), with the same safe constructor, so the same values. A document
libyaml refuses is parsed again by the pure-Python parser, whose error shows the offending line
under a caret: the message an exam office has always had."""
from __future__ import annotations

from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """`yaml.safe_load` of a document's text."""
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)


def read(path: Path):
    """The YAML document in the file `path` (UTF-8, a byte-order mark allowed: Windows editors write one)."""
    return safe_load(path.read_text(encoding="utf-8-sig"))
