"""The CJK font cut down once per print run, and a faster table row for fpdf2.

fpdf2 parses the whole Noto Sans CJK SC face for every document it opens (~0.25 s per face) and
subsets the CFF font again for every file it writes (~0.3 s per face): about 1 s per PDF, two
minutes for the 120 class PDFs of a 3,000-student grade. So a print run subsets the face once to
the characters it can draw (every string of the exam's tables, the templates' own text, ASCII),
converts those few hundred glyphs from CFF to TrueType outlines (cu2qu, within one font unit:
fpdf2 re-subsets the embedded font of every file, which for CFF means interpreting charstrings in
pure Python, for glyf copying bytes), writes that small font to a private temporary folder, and
every PDF of the run loads it instead: a few hundredths of a second per file. The bold face is cut
to the template text, the exam's title, subject names and class labels only; student names are
never drawn in bold (`FastPdf.bold` guards every bold text).

Characters outside the subset that the full face has cannot occur (the subset is built from the
same texts); characters the full face lacks (生僻字) go to the printing layer's fallback fonts
exactly as before, because `CJKPdf.needs_fallback` tests against the face it loaded. If
subsetting or the conversion fails for an unusual font, the PDFs load the full face (slower).
"""
from __future__ import annotations

import shutil
import string
import tempfile
from pathlib import Path
from typing import Iterable

from examflow.printing.pdf import FAMILY, CJKPdf, find_cjk_font

__all__ = ["FastPdf", "SubsetFonts", "SubsetPdf", "source_text"]

_BASE = set(string.printable) | set("0123456789.%％：:（）()、，,；;·—–…↑↓✂×≥≤→ 　")


def source_text(*modules) -> set[str]:
    """The characters of the modules' source files (their template text)."""
    out: set[str] = set()
    for m in modules:
        path = getattr(m, "__file__", None)
        try:
            out |= set(Path(path).read_text(encoding="utf-8")) if path else set()
        except (OSError, UnicodeDecodeError):  # pragma: no cover - installed without sources
            continue
    return out


class SubsetFonts:
    """Regular and bold CJK faces subset to given characters, in a private temporary folder.
    Use as a context manager (the folder is removed on exit). `regular`/`bold` are None when
    subsetting failed (the PDFs then load the full face, only slower)."""

    def __init__(self, regular_chars: Iterable[str], bold_chars: Iterable[str]):
        self.dir = Path(tempfile.mkdtemp(prefix="examflow-fonts-"))  # 0o700
        self.regular: Path | None = None
        self.bold: Path | None = None
        reg = {c for c in set(regular_chars) | _BASE if not c.isspace() or c == " "}
        self.bold_chars = frozenset({c for c in set(bold_chars) | _BASE if not c.isspace() or c == " "}
                                    | set(string.printable))
        try:
            self.regular = self._subset(False, reg, self.dir / "regular")
            self.bold = self._subset(True, set(self.bold_chars), self.dir / "bold")
        except Exception:  # pragma: no cover - an unusual font: fall back to the full face
            self.regular = self.bold = None

    @staticmethod
    def _subset(bold: bool, chars: set[str], target: Path) -> Path:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        face = find_cjk_font(bold)
        opts = subset.Options()
        opts.name_IDs = ["*"]
        opts.name_languages = ["*"]
        opts.notdef_outline = True
        opts.layout_features = []
        opts.hinting = True  # removing CFF hints costs time; the glyf conversion drops them anyway
        opts.desubroutinize = False
        # layout and vertical tables fpdf2 does not use: every PDF would compile them again
        opts.drop_tables += ["BASE", "GDEF", "GPOS", "GSUB", "JSTF", "MATH", "vhea", "vmtx", "VORG", "DSIG"]
        unicodes = sorted(ord(c) for c in chars)

        def cut() -> "TTFont":
            font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
            sub = subset.Subsetter(opts)
            sub.populate(unicodes=unicodes)
            sub.subset(font)
            return font

        font = cut()
        try:
            if "CFF " in font:
                try:
                    _cff_to_glyf(font)
                except Exception:  # pragma: no cover - keep the CFF subset, only slower to embed
                    font.close()
                    font = cut()
            target = target.with_suffix(".otf" if "CFF " in font else ".ttf")
            font.save(str(target))
        finally:
            font.close()
        return target

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "SubsetFonts":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _cff_to_glyf(font) -> None:
    """Convert a (subset) CFF font to TrueType outlines in place (quadratic curves by cu2qu, within
    one font unit). fpdf2 re-subsets the embedded font of every PDF it writes; for CFF that means
    interpreting every kept charstring in pure Python several times (~0.1 s per file for ~500
    glyphs), for glyf it is a copy of bytes."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                 "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"
    font["head"].glyphDataFormat = 0


class SubsetPdf(CJKPdf):
    """A CJKPdf that loads the run's subset faces instead of the full collection."""

    def __init__(self, *args, fonts: SubsetFonts | None = None, **kwargs):
        self._subset_fonts = fonts
        super().__init__(*args, **kwargs)

    def add_font(self, family=None, style="", fname=None, **kwargs):  # type: ignore[override]
        fonts = getattr(self, "_subset_fonts", None)
        if family == FAMILY and fonts is not None and fonts.regular is not None:
            fname = str(fonts.bold if "B" in (style or "").upper() and fonts.bold else fonts.regular)
            kwargs["collection_font_number"] = 0
            super().add_font(family, style, fname, **kwargs)
            # fpdf2 saves the (re-subset) font of every file: with recalcBBoxes on, fontTools
            # executes every kept CFF charstring to recompute bounding boxes (head, hhea, vhea,
            # CFF FontBBox) - most of the cost of writing a PDF. The boxes of the subset face are
            # already valid for the glyphs kept; PDF viewers use the descriptor fpdf2 writes.
            for font in self.fonts.values():
                ttfont = getattr(font, "ttfont", None)
                if ttfont is not None:
                    ttfont.recalcBBoxes = False
            return None
        return super().add_font(family, style, fname, **kwargs)

    def bold(self, text: str) -> str:
        """"B" when `text` can be drawn with the run's bold face, else "" (regular)."""
        fonts = getattr(self, "_subset_fonts", None)
        if fonts is None or fonts.regular is None:
            return "B"
        return "B" if all(c in fonts.bold_chars for c in str(text)) else ""


class FastPdf(SubsetPdf):
    """SubsetPdf with `row()`: a table row drawn in one content-stream write (cell borders as one
    path, texts as text objects). The printing layer's `fit_cell` costs ~17 µs a cell through
    fpdf2's generic `text()`/`rect()`; a 3,000-student grade draws ~200,000 cells. Same look as
    `fit_cell` (centred / left / right, shrink to 6 pt then cut with "…"); a text that needs a
    fallback font (生僻字) is drawn with `fit_cell`. Relies on fpdf2 2.8's page-resource and
    font-encoding internals (the version pyproject pins); on any surprise it falls back to
    `fit_cell` for good."""

    _fast = True

    def row(self, x: float, y: float, widths, h: float, texts, *, size: float, aligns="C", style: str = "",
            border: bool = True, fill: tuple[int, int, int] | None = None, min_size: float = 6.0) -> None:
        if isinstance(aligns, str):
            aligns = [aligns] * len(widths)
        if self._fast:
            try:
                self._fast_row(x, y, widths, h, texts, size, aligns, style, border, fill, min_size)
                return
            except (AttributeError, TypeError, KeyError):  # pragma: no cover - another fpdf2
                FastPdf._fast = False
        if fill:
            self.set_fill_color(*fill)
        self.set_xy(x, y)
        for w, t, a in zip(widths, texts, aligns):
            self.fit_cell(w, h, t, align=a, style=style, size=size, border=1 if border else 0, fill=bool(fill))

    def _fast_row(self, x, y, widths, h, texts, size, aligns, style, border, fill, min_size) -> None:
        from examflow.printing.pdf import FAMILY as _FAMILY

        k, page_h = self.k, self.h
        total = sum(widths)
        if fill:
            self.set_fill_color(*fill)
            self.rect(x, y, total, h, style="F")
        self.set_font(_FAMILY, style, size)
        font = self.current_font
        ops: list[str] = []
        if border:
            cx = x
            for w in widths:
                ops.append(f"{cx * k:.2f} {(page_h - y) * k:.2f} {w * k:.2f} {-h * k:.2f} re")
                cx += w
            ops.append("S")
        later = []
        texts_ops: list[str] = []
        cx = x
        margin = self.c_margin
        for w, t, a in zip(widths, texts, aligns):
            s = "" if t is None else str(t)
            if s:
                if self.needs_fallback(s):
                    later.append((cx, w, s, a))
                else:
                    pt = size
                    tw = font.get_text_width(s, pt, None)[1] / k
                    room = w - 2 * margin
                    if tw > room > 0:
                        pt = max(min_size, size * room / tw * 0.98)
                        tw = font.get_text_width(s, pt, None)[1] / k
                        if tw > room:
                            while s and font.get_text_width(s + "…", pt, None)[1] / k > room:
                                s = s[:-1]
                            s += "…"
                            tw = font.get_text_width(s, pt, None)[1] / k
                    if a == "L":
                        tx = cx + margin
                    elif a == "R":
                        tx = cx + w - margin - tw
                    else:
                        tx = cx + (w - tw) / 2
                    ty = y + h / 2 + 0.3 * pt / k
                    texts_ops.append(f"BT /F{font.i} {pt:.2f} Tf {tx * k:.2f} {(page_h - ty) * k:.2f} Td "
                                     f"{font.encode_text(s)} ET")
            cx += w
        if texts_ops:
            self._set_font_for_page(font, size, wrap_in_text_object=False)  # registers the page resource
            ops.append(self.text_color.serialize().lower())
            ops += texts_ops
            ops.append(self.fill_color.serialize().lower())
            self.current_font_is_set_on_page = False  # our Tf changed the text state: fpdf2 re-sets it
        if ops:
            self._out(" ".join(ops))
        for cx, w, s, a in later:
            self.set_xy(cx, y)
            self.fit_cell(w, h, s, align=a, style=style, size=size, border=0)
        self.set_xy(x + total, y)

    def table(self, columns, rows, *, row_height: float = 6.0, font_size: float = 9.0,
              header_fill: tuple[int, int, int] = (217, 225, 242)) -> int:
        """`CJKPdf.draw_table` (widths scaled to the printable width, header repeated after a
        page break) drawn with `row()`."""
        widths = [c.width for c in columns]
        scale = self.epw / sum(widths)
        widths = [w * scale for w in widths]
        aligns = [c.align for c in columns]
        heads = [c.header for c in columns]

        def header() -> None:
            self.row(self.l_margin, self.y, widths, row_height, heads, size=font_size, style="B", fill=header_fill)
            self.set_xy(self.l_margin, self.y + row_height)

        if self.page == 0:
            self.add_page()
        if self.will_page_break(row_height * 2):
            self.add_page()
        header()
        n = 0
        for r in rows:
            if self.will_page_break(row_height):
                self.add_page()
                header()
            self.row(self.l_margin, self.y, widths, row_height, r, size=font_size, aligns=aligns)
            self.set_xy(self.l_margin, self.y + row_height)
            n += 1
        return n
