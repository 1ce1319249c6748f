"""Which font files the PDFs print with (outputs.md: "PDFs use a CJK font", `EXAMFLOW_FONT`).

Search order for the main face, the first that can print Chinese wins:
1. `EXAMFLOW_FONT` (a .ttf/.ttc/.otf/.otc file), else `printing.font` of school.yaml / exam.yaml;
   a setting that names no usable font is an error, not a reason to look elsewhere;
2. fontconfig's match for a Simplified Chinese sans face (`fc-match 'sans-serif:lang=zh-cn'`), where
   fontconfig exists (Linux, BSD);
3. the usual files: Noto Sans CJK / Source Han Sans (Linux, or installed by hand), PingFang and
   Hiragino Sans GB (macOS), 微软雅黑 msyh.ttc, 黑体 simhei.ttf, 宋体 simsun.ttc (Windows).

"Can print Chinese" is checked, not assumed: the face must map every character of `PROBE`.
In a collection (.ttc) the Simplified Chinese face is chosen by name (`SC`, `GB`, `CN`, `Hans`).
A bold file beside the regular one (`…-Bold.ttc`, `msyhbd.ttc`) is used for bold text.

Rare name characters (生僻字): fallback faces follow the main one, tried per character by the
typesetter: `EXAMFLOW_FALLBACK_FONTS` (paths joined by os.pathsep), then HanaMinA/B (Debian
`fonts-hanazono`, CJK Ext. A-F), 宋体-ExtB (simsunb.ttf) and others when present.

No CJK face anywhere: `FontMissing`, whose message is one line saying what is missing and the two
fixes. The file names and family names here are read with fontTools (public API).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV", "FALLBACK_ENV", "FontMissing", "FontSet", "Face", "find_fonts"]

ENV = "EXAMFLOW_FONT"
FALLBACK_ENV = "EXAMFLOW_FALLBACK_FONTS"
PROBE = "成绩单班级学号姓名总分考场"  # a face lacking any of these cannot print our pages
FONT_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")
_SC_MARKS = ("SC", "GB", "CN", "Hans", "YaHei", "SimSun", "SimHei", "PingFang SC")


class FontMissing(RuntimeError):
    """No font able to print Chinese: the PDF step cannot run (the exit code of `examflow run`
    says so: `examflow.cli.EXIT_NO_FONT`)."""


@dataclass(frozen=True)
class Face:
    path: Path
    index: int
    family: str


@dataclass(frozen=True)
class FontSet:
    """The files the typesetter loads and the family names, main face first."""

    main: Face
    bold: Path | None
    fallbacks: tuple[Face, ...]

    @property
    def files(self) -> list[Path]:
        out = [self.main.path] + ([self.bold] if self.bold else []) + [f.path for f in self.fallbacks]
        return list(dict.fromkeys(out))

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys([self.main.family] + [f.family for f in self.fallbacks]))


def _windows_dirs() -> list[Path]:
    dirs = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    if os.environ.get("LOCALAPPDATA"):
        dirs.append(Path(os.environ["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts")
    return dirs


def _candidates() -> list[Path]:
    """The usual places of a Simplified Chinese sans (or, last, serif) face, per system."""
    home = Path.home()
    linux = [
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian / Ubuntu fonts-noto-cjk
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
        "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ]
    user = [home / ".local/share/fonts" / n for n in ("NotoSansCJK-Regular.ttc", "NotoSansSC-Regular.otf",
                                                       "SourceHanSansSC-Regular.otf")]
    user += [home / ".fonts" / "NotoSansCJK-Regular.ttc"]
    mac = ["/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/Hiragino Sans GB.ttc",
           "/System/Library/Fonts/STHeiti Medium.ttc", "/Library/Fonts/Arial Unicode.ttf",
           home / "Library/Fonts/NotoSansCJK-Regular.ttc"]
    windows = [d / n for d in _windows_dirs() for n in ("msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc", "Deng.ttf")]
    ordered = {"win32": windows + user, "darwin": mac + user}.get(sys.platform, linux + user)
    return [Path(p) for p in ordered]


def _fallback_candidates() -> list[Path]:
    paths = [Path(p).expanduser() for p in os.environ.get(FALLBACK_ENV, "").split(os.pathsep) if p.strip()]
    paths += [Path(p) for p in ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
                                "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
                                "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                                "/usr/share/fonts/truetype/unifont/unifont.ttf",
                                "/usr/share/fonts/opentype/unifont/unifont.otf",
                                "/System/Library/Fonts/Supplemental/Songti.ttc")]
    paths += [d / n for d in _windows_dirs() for n in ("simsunb.ttf", "SimSun-ExtB.ttf", "SimSun-ExtG.ttf")]
    return paths


@functools.lru_cache(maxsize=64)
def _families(path: Path) -> tuple[str, ...]:
    """The typographic family of each face of a font file; () when it is unreadable."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        font = TTCollection(str(path), lazy=True) if path.suffix.lower() in (".ttc", ".otc") \
            else TTFont(str(path), lazy=True)
    except Exception:  # a broken or foreign file is simply not a usable font
        return ()
    try:
        return tuple(f["name"].getDebugName(16) or f["name"].getDebugName(1) or path.stem
                     for f in getattr(font, "fonts", [font]))
    except Exception:
        return ()
    finally:
        font.close()


@functools.lru_cache(maxsize=64)
def _covers(path: Path, index: int) -> bool:
    """True when face `index` of the file maps every character of PROBE."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(str(path), fontNumber=index, lazy=True)
    except Exception:
        return False
    try:
        cmap = font.getBestCmap() or {}
        return all(ord(c) in cmap for c in PROBE)
    except Exception:
        return False
    finally:
        font.close()


def _pick(path: Path) -> Face | None:
    """The file's Simplified Chinese face (by name) if it covers PROBE, else its first face that does."""
    faces = list(enumerate(_families(path)))
    faces.sort(key=lambda f: not (any(m in f[1] for m in _SC_MARKS) and "Mono" not in f[1]))
    for i, fam in faces:
        if _covers(path, i):
            return Face(path, i, fam)
    return None


def _fc_match() -> Path | None:
    exe = shutil.which("fc-match")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}", "sans-serif:lang=zh-cn"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _bold_beside(path: Path) -> Path | None:
    names = [path.name.replace("Regular", "Bold"), f"{path.stem}bd{path.suffix}"]
    for n in names:
        p = path.with_name(n)
        if p != path and p.is_file():
            return p
    return None


def _explicit(value: str, source: str) -> Face:
    path = Path(value).expanduser()
    if not path.is_file() or path.suffix.lower() not in FONT_SUFFIXES:
        raise FontMissing(f"{source}={value!r} is not a font file (.ttf, .ttc, .otf): point it at a Chinese font, "
                          "e.g. C:\\Windows\\Fonts\\msyh.ttc or /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    face = _pick(path)
    if face is None:
        raise FontMissing(f"{source}={value!r} has no Chinese characters: point it at a Chinese font such as "
                          "微软雅黑 msyh.ttc, 宋体 simsun.ttc or Noto Sans CJK SC")
    return face


def find_fonts(setting: str | None = None) -> FontSet:
    """The run's faces (see the module docstring); raises FontMissing."""
    env = os.environ.get(ENV, "").strip()
    if env:
        main = _explicit(env, ENV)
    elif setting:
        main = _explicit(str(setting), "printing.font")
    else:
        main = None
        fc = _fc_match()
        for path in ([fc] if fc else []) + _candidates():
            if path.is_file():
                main = _pick(path)
                if main is not None:
                    break
        if main is None:
            raise FontMissing(
                "no Chinese font for the PDF printouts: install one (Debian/Ubuntu: apt-get install fonts-noto-cjk; "
                f"Windows and macOS have one) or set {ENV} (or printing.font in school.yaml) to a .ttf/.ttc/.otf file")
    fallbacks = []
    for path in _fallback_candidates():
        if path.is_file() and path != main.path:
            families = _families(path)
            if families:
                fallbacks.append(Face(path, 0, families[0]))
    return FontSet(main, _bold_beside(main.path), tuple(fallbacks))
