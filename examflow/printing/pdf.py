"""PDF printouts on fpdf2 with a CJK font (outputs.md: "PDFs use a CJK font").

Fonts
- The main face is Noto Sans CJK SC (Debian/Ubuntu package `fonts-noto-cjk`, also Fedora's and
  Arch's Noto CJK packages). The font ships as a TrueType/OpenType *collection*
  (`NotoSansCJK-Regular.ttc`) holding ten faces (JP, KR, SC, TC, HK and their Mono forms).
  fpdf2 2.8.9 selects a face of a collection with `add_font(..., collection_font_number=i)`,
  which it passes to fontTools as `fontNumber` (and to HarfBuzz as the face index). We do not
  hard-code the index (it is 2 in Debian's file): `find_cjk_font()` reads each face's name table
  and picks the one whose family is "Noto Sans CJK SC". The Bold collection gives the bold
  style (headers); without it the regular face doubles as bold.
- Override with the environment variable `EXAMFLOW_CJK_FONT=/path/font.ttc` (optionally
  `#index`, e.g. `/opt/fonts/NotoSansCJK-Regular.ttc#2`) or a single-face `.otf`/`.ttf`
  (e.g. `NotoSansSC-Regular.otf`).
- No CJK font found -> `CJKFontNotFound` naming the paths searched and the fix
  (`apt-get install fonts-noto-cjk` or EXAMFLOW_CJK_FONT). The project's setup/CI must install
  the font package: it is not on a new machine.
- Rare name characters (生僻字): Noto Sans CJK SC covers ~44,800 code points, CJK Ext. A and much
  of Ext. B included, but not all (e.g. U+2A6A5 𪚥). fpdf2 offers `set_fallback_fonts()`: when
  the current font lacks a glyph it draws that character with the first fallback font that has
  it. Candidates, in order: `EXAMFLOW_FALLBACK_FONTS` (paths joined by os.pathsep), HanaMinA /
  HanaMinB (Debian `fonts-hanazono`, which covers CJK Ext. A-F; the project setup should install
  it beside fonts-noto-cjk), WenQuanYi / AR PL / Unifont when present, DejaVu Sans for symbols.
  A fallback font is loaded only when a text needs it, and only the one covering the missing
  character (loading HanaMin costs ~0.4 s per document). fpdf2's fallback mode is switched on
  only around the texts that need it (`_with_fallback`): once fallback fonts are set, fpdf2 lays
  out every text character by character, several times slower. A character no font has is
  drawn as the empty box and recorded in `CJKPdf.missing_glyphs` (fpdf2 also logs a warning);
  it never stops the run.
- Text extraction: Noto CJK is a CID-keyed CFF font; fpdf2 embeds it with an embedded
  Encoding CMap. Poppler (pdftotext), pdf.js and Acrobat map it back to Unicode; pypdf 7.x
  does not parse embedded Encoding CMaps and returns each CJK character preceded by "\\x00"
  (strip NULs before comparing, as the tests do).

Layout helpers
- `CJKPdf(title)` - an FPDF on A4 with the CJK font, a running title in the page header and
  "第 x 页 / 共 y 页" in the footer; `save(path)` writes owner-only and atomically.
- `draw_table(columns, rows)` - a table drawn with rect() + text() (5-10x faster than fpdf2's
  `table()` on long lists: a 240-page door-list file takes ~2 s), the header row repeated on
  every page break, each text shrunk (down to 6 pt) and then cut with "…" to fit its column.
- `fit_cell`, `heading`, `line_text`, `paragraph` - single texts with the same fallback logic.
- `draw_label_grid(items, cols, rows, draw)` - a grid of labels per page with cut lines
  (desk labels 桌贴, later score slips).
"""
from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from examflow.printing import PrintedFile, owner_only_file

__all__ = [
    "CJKFontNotFound",
    "CJKPdf",
    "FontFace",
    "PdfColumn",
    "find_cjk_font",
    "find_fallback_fonts",
]

FAMILY = "cjk"
_TARGET_FAMILY = "Noto Sans CJK SC"

_FONT_DIRS = [
    "/usr/share/fonts/opentype/noto",  # Debian / Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk",  # Arch
    "/usr/share/fonts/google-noto-cjk",  # Fedora
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    str(Path.home() / ".local/share/fonts"),
    str(Path.home() / ".fonts"),
]
_REGULAR_FILES = ["NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
                  "NotoSansSC-Regular.ttf"]
_BOLD_FILES = ["NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansSC-Bold.otf", "NotoSansSC-Bold.ttf"]
_FALLBACK_CANDIDATES = [
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
    "/usr/share/fonts/opentype/unifont/unifont.otf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]


class CJKFontNotFound(RuntimeError):
    """No font able to print Chinese was found."""


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int  # face index in a .ttc/.otc collection (0 for single-face files)
    family: str


def _face_families(path: Path) -> list[str]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        coll = TTCollection(str(path), lazy=True)
        try:
            return [f["name"].getDebugName(1) or "" for f in coll.fonts]
        finally:
            coll.close()
    f = TTFont(str(path), lazy=True)
    try:
        return [f["name"].getDebugName(1) or ""]
    finally:
        f.close()


def _pick_face(path: Path, explicit_index: int | None = None) -> FontFace:
    families = _face_families(path)
    if explicit_index is not None:
        if not 0 <= explicit_index < len(families):
            raise CJKFontNotFound(f"{path} has {len(families)} faces; index {explicit_index} does not exist")
        return FontFace(path, explicit_index, families[explicit_index])
    for i, fam in enumerate(families):
        if fam == _TARGET_FAMILY:
            return FontFace(path, i, fam)
    for i, fam in enumerate(families):  # e.g. "Noto Sans SC" single-face files
        if "SC" in fam.split() and "Mono" not in fam:
            return FontFace(path, i, fam)
    return FontFace(path, 0, families[0] if families else path.stem)


def _parse_override(value: str) -> tuple[Path, int | None]:
    path, _, idx = value.partition("#")
    return Path(path).expanduser(), (int(idx) if idx.strip() else None)


@functools.lru_cache(maxsize=4)
def _find(bold: bool, override: str | None) -> FontFace:
    searched: list[str] = []
    if override:
        p, idx = _parse_override(override)
        if not p.is_file():
            raise CJKFontNotFound(f"EXAMFLOW_CJK_FONT={override!r}: no such font file")
        if bold:  # a bold file beside the given one, else the regular face is reused
            for cand in (p.with_name(p.name.replace("Regular", "Bold")),):
                if cand != p and cand.is_file():
                    return _pick_face(cand, idx)
        return _pick_face(p, idx)
    for d in _FONT_DIRS:
        for name in _BOLD_FILES if bold else _REGULAR_FILES:
            p = Path(d) / name
            searched.append(str(p))
            if p.is_file():
                return _pick_face(p)
    if bold:
        return _find(False, override)
    raise CJKFontNotFound(
        "no CJK font found for PDF printouts (Noto Sans CJK SC). Install it with "
        "`apt-get install fonts-noto-cjk` (Debian/Ubuntu; `dnf install google-noto-sans-cjk-fonts` on "
        "Fedora) or point EXAMFLOW_CJK_FONT at a .ttc/.otf file (`path#index` picks a face of a "
        "collection). Searched: " + ", ".join(searched)
    )


def find_cjk_font(bold: bool = False) -> FontFace:
    """The Noto Sans CJK SC face (regular or bold) to print with; raises CJKFontNotFound."""
    return _find(bold, os.environ.get("EXAMFLOW_CJK_FONT") or None)


def find_fallback_fonts() -> list[Path]:
    """Fonts tried, in order, for characters the main face lacks."""
    paths: list[Path] = []
    env = os.environ.get("EXAMFLOW_FALLBACK_FONTS")
    if env:
        paths += [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    paths += [Path(p) for p in _FALLBACK_CANDIDATES]
    seen: set[Path] = set()
    out = []
    for p in paths:
        if p.is_file() and p not in seen:
            seen.add(p)
            out.append(p)
    return out


@functools.lru_cache(maxsize=32)
def _font_cmap(path: str) -> frozenset[int]:
    """Code points a (fallback) font covers; read once per process."""
    from fontTools.ttLib import TTFont

    try:
        f = TTFont(path, lazy=True, fontNumber=0)
        try:
            return frozenset(f.getBestCmap() or {})
        finally:
            f.close()
    except Exception:  # an unreadable font covers nothing
        return frozenset()


@dataclass(frozen=True)
class PdfColumn:
    """A PDF table column: `width` in mm, or a relative weight when `relative` tables are used."""

    header: str
    width: float
    align: str = "C"  # L / C / R


class CJKPdf(FPDF):
    """An A4 FPDF set up for Chinese printouts; see the module docstring."""

    def __init__(
        self,
        title: str = "",
        *,
        orientation: str = "P",
        header_text: str | None = None,
        footer: bool = True,
        margin: float = 10.0,
        font_size: float = 10.5,
        kind: str | None = None,
    ):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.doc_title = title
        self.header_text = title if header_text is None else header_text
        self.show_footer = footer
        self.kind = kind
        self.base_font_size = font_size
        self.missing_glyphs: set[str] = set()
        self.set_margins(margin, margin + (5 if self.header_text else 0), margin)
        self.set_auto_page_break(True, margin=margin + (6 if footer else 0))
        if title:
            self.set_title(title)
        self.set_creator("examflow")
        regular = find_cjk_font(False)
        bold = find_cjk_font(True)
        self.add_font(FAMILY, "", str(regular.path), collection_font_number=regular.index)
        self.add_font(FAMILY, "B", str(bold.path), collection_font_number=bold.index)
        self._cmap: dict[int, Any] = self.fonts[FAMILY].cmap  # type: ignore[union-attr]
        self._checked: dict[str, bool] = {}
        self._fallback_paths: set[str] = set()
        self._fallback_cmaps: list[tuple[str, frozenset[int]]] = []
        self._fallback_ids: list[str] = []
        self.set_font(FAMILY, "", font_size)

    # -- glyph coverage --------------------------------------------------------------------
    def needs_fallback(self, text: str) -> bool:
        """True when `text` has a character the main face lacks; loads (once per document) the
        fallback font that covers it. Characters no font covers go to `missing_glyphs`."""
        if not text or text.isascii():
            return False
        hit = self._checked.get(text)
        if hit is not None:
            return hit
        missing = [ch for ch in text if ord(ch) not in self._cmap and not ch.isspace()]
        need = False
        for ch in missing:
            cp = ord(ch)
            fam = next((f for f, cmap in self._fallback_cmaps if cp in cmap), None)
            if fam is None:
                for path in find_fallback_fonts():
                    if str(path) in self._fallback_paths:
                        continue
                    cmap = _font_cmap(str(path))
                    if cp in cmap:
                        fam = f"fallback{len(self._fallback_paths)}"
                        try:
                            self.add_font(fam, "", str(path))
                        except Exception:  # a broken font file must not stop the printout
                            self._fallback_paths.add(str(path))
                            continue
                        self._fallback_paths.add(str(path))
                        self._fallback_cmaps.append((fam, cmap))
                        self._fallback_ids.append(fam)
                        break
            if fam is None:
                self.missing_glyphs.add(ch)
            else:
                need = True
        if len(self._checked) > 50_000:
            self._checked.clear()
        self._checked[text] = need
        return need

    # kept for callers that only want the side effect
    def ensure_glyphs(self, text: str) -> None:
        self.needs_fallback(text)

    def _with_fallback(self, text: str, draw: Callable[[], None]) -> None:
        """Run `draw` with fpdf2's fallback fonts switched on only when `text` needs them:
        with fallbacks set fpdf2 renders every text character by character (much slower)."""
        if self.needs_fallback(text):
            self.set_fallback_fonts(self._fallback_ids, exact_match=False)
            try:
                draw()
            finally:
                self.set_fallback_fonts([])
        else:
            draw()

    def text_width(self, text: str) -> float:
        """Width in mm of `text` in the current font (main face widths; fast)."""
        font = self.current_font
        return font.get_text_width(text, self.font_size_pt, None)[1] / self.k  # type: ignore[union-attr]

    # -- page furniture --------------------------------------------------------------------
    def header(self) -> None:
        if not self.header_text:
            return
        family, style, size = self.font_family, self.font_style, self.font_size_pt
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90)
        self.set_xy(self.l_margin, 4)
        self._with_fallback(self.header_text, lambda: self.cell(self.epw, 5, self.header_text, align="C"))
        self.set_text_color(0)
        self.set_font(family, style, size)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        if not self.show_footer:
            return
        family, style, size = self.font_family, self.font_style, self.font_size_pt
        self.set_y(-10)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0)
        self.set_font(family, style, size)

    # -- text ------------------------------------------------------------------------------
    def fit_cell(
        self,
        w: float,
        h: float,
        text: Any,
        *,
        align: str = "C",
        border: int | str = 1,
        style: str = "",
        size: float | None = None,
        min_size: float = 6.0,
        fill: bool = False,
        ln: bool = False,
    ) -> None:
        """A one-line cell at the current position whose text is shrunk (down to `min_size`),
        then cut with "…", to fit width `w`; moves right (or to the next line with `ln`).
        Drawn with rect() + text() - a fraction of cell()'s cost - unless the text needs a
        fallback font, which only cell() applies."""
        s = "" if text is None else str(text)
        size = size or self.base_font_size
        x, y = self.x, self.y
        fb = self.needs_fallback(s)
        self.set_font(FAMILY, style, size)
        room = w - 2 * self.c_margin
        tw = 0.0
        if s:
            tw = self.text_width(s)
            if tw > room > 0:
                new = max(min_size, size * room / tw * 0.98)
                self.set_font(FAMILY, style, new)
                tw = self.text_width(s)
                if tw > room:
                    while s and self.text_width(s + "…") > room:
                        s = s[:-1]
                    s += "…"
                    tw = self.text_width(s)
        if fb:
            self.set_xy(x, y)
            self._with_fallback(s, lambda: self.cell(w, h, s, border=border, align=align, fill=fill,
                                                     new_x=XPos.RIGHT, new_y=YPos.TOP))
        else:
            if border or fill:
                self.rect(x, y, w, h, style=("DF" if border else "F") if fill else "D")
            if s:
                if align == "L":
                    tx = x + self.c_margin
                elif align == "R":
                    tx = x + w - self.c_margin - tw
                else:
                    tx = x + (w - tw) / 2
                self.text(tx, y + h / 2 + 0.3 * self.font_size, s)
        if ln:
            self.set_xy(self.l_margin, y + h)
        else:
            self.set_xy(x + w, y)
        if self.font_size_pt != size:
            self.set_font(FAMILY, style, size)

    def heading(self, text: str, size: float = 16, *, align: str = "C", h: float | None = None,
                style: str = "B") -> None:
        self.set_font(FAMILY, style, size)
        self.set_x(self.l_margin)
        self._with_fallback(text, lambda: self.cell(self.epw, h or size * 0.55, text, align=align,
                                                    new_x=XPos.LMARGIN, new_y=YPos.NEXT))
        self.set_font(FAMILY, "", self.base_font_size)

    def line_text(self, text: str, size: float | None = None, *, align: str = "L", h: float = 6,
                  style: str = "") -> None:
        self.set_font(FAMILY, style, size or self.base_font_size)
        self.set_x(self.l_margin)
        self._with_fallback(text, lambda: self.cell(self.epw, h, text, align=align,
                                                    new_x=XPos.LMARGIN, new_y=YPos.NEXT))
        self.set_font(FAMILY, "", self.base_font_size)

    def paragraph(self, text: str, size: float | None = None, *, h: float = 5, align: str = "L",
                  style: str = "") -> None:
        """Text wrapped over the printable width."""
        self.set_font(FAMILY, style, size or self.base_font_size)
        self.set_x(self.l_margin)
        self._with_fallback(text, lambda: self.multi_cell(self.epw, h, text, align=align,
                                                          new_x=XPos.LMARGIN, new_y=YPos.NEXT))
        self.set_font(FAMILY, "", self.base_font_size)

    # -- tables ----------------------------------------------------------------------------
    def draw_table(
        self,
        columns: Sequence[PdfColumn],
        rows: Iterable[Sequence[Any]],
        *,
        row_height: float = 7.0,
        font_size: float | None = None,
        header_fill: tuple[int, int, int] = (217, 225, 242),
        repeat_header: bool = True,
        scale_to_width: bool = True,
        on_new_page: Callable[["CJKPdf"], None] | None = None,
    ) -> int:
        """Draw a table from the current y; a page break repeats the header row (and calls
        `on_new_page` first, e.g. to repeat a room title). Column widths are scaled to the
        printable width when `scale_to_width`. Returns the number of rows drawn."""
        size = font_size or self.base_font_size
        widths = [c.width for c in columns]
        if scale_to_width:
            total = sum(widths)
            widths = [w * self.epw / total for w in widths]

        def header_row() -> None:
            self.set_fill_color(*header_fill)
            self.set_x(self.l_margin)
            for c, w in zip(columns, widths):
                self.fit_cell(w, row_height, c.header, align="C", style="B", size=size, fill=True)
            self.ln(row_height)

        if self.page == 0:
            self.add_page()
        if self.will_page_break(row_height * 2):
            self.add_page()
            if on_new_page:
                on_new_page(self)
        header_row()
        n = 0
        for r in rows:
            if self.will_page_break(row_height):
                self.add_page()
                if on_new_page:
                    on_new_page(self)
                if repeat_header:
                    header_row()
            self.set_x(self.l_margin)
            for c, w, v in zip(columns, widths, r):
                self.fit_cell(w, row_height, v, align=c.align, size=size)
            self.ln(row_height)
            n += 1
        return n

    def draw_label_grid(
        self,
        items: Sequence[Any],
        draw: Callable[["CJKPdf", float, float, float, float, Any], None],
        *,
        cols: int = 2,
        rows: int = 5,
        gap: float = 0.0,
        cut_lines: bool = True,
    ) -> int:
        """Lay `items` out `cols` x `rows` per page; `draw(pdf, x, y, w, h, item)` fills one label.
        Auto page breaks are off while drawing labels. Returns the number of labels."""
        auto, margin = self.auto_page_break, self.b_margin
        self.set_auto_page_break(False)
        top = self.t_margin
        bottom = self.h - (self.b_margin if not self.show_footer else max(self.b_margin, 12))
        w = (self.epw - gap * (cols - 1)) / cols
        h = (bottom - top - gap * (rows - 1)) / rows
        per_page = cols * rows
        for i, item in enumerate(items):
            k = i % per_page
            if k == 0:
                self.add_page()
            x = self.l_margin + (k % cols) * (w + gap)
            y = top + (k // cols) * (h + gap)
            if cut_lines:
                self.set_draw_color(150)
                self.set_dash_pattern(dash=1.5, gap=1.0)
                self.rect(x, y, w, h)
                self.set_dash_pattern()
                self.set_draw_color(0)
            draw(self, x, y, w, h, item)
        self.set_auto_page_break(auto, margin=margin)
        return len(items)

    # -- output ----------------------------------------------------------------------------
    def render(self) -> bytes:
        """The finished PDF (one page saying （无数据） when nothing was drawn)."""
        if self.page == 0:
            self.add_page()
            self.line_text("（无数据）")
        return bytes(self.output())

    def save(self, path: str | os.PathLike, rows: int = 0) -> PrintedFile:
        """Write the PDF to `path`, readable by the owner only, atomically."""
        data = self.render()
        with owner_only_file(path) as fh:
            fh.write(data)
        p = Path(path)
        return PrintedFile(p, self.kind or p.name, rows, hashlib.sha256(data).hexdigest())
