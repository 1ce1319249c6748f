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
exactly as before, because `CJKPdf.needs_fallback` tests against the face it loaded. A face
cu2qu cannot convert is subset by fontTools and stays CFF (slower to embed); if that fails too,
the PDFs load the full face (slower still).

Per document, what is left is cheap too: the subset face is parsed once per process and each PDF
gets a copy of fpdf2's font object (`SubsetFonts.face`), and the font program a PDF embeds is
cut from it by copying the glyphs it uses (`_Program`) instead of running fontTools' subsetter
on it (~5 ms a face, twice per PDF): fpdf2's own font writer runs with that one step swapped
(`_fast_output`); the glyph ids, outlines and widths are those fontTools gives.
"""
from __future__ import annotations

import array
import copy
import io
import shutil
import string
import struct
import sys
import tempfile
import types
from pathlib import Path
from typing import Iterable

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont, newTable
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer
from fpdf.syntax import PDFContentStream

from examflow.printing.pdf import FAMILY, CJKPdf, FontFace, find_cjk_font

__all__ = ["FastPdf", "SubsetFonts", "SubsetPdf", "source_text"]

# zlib level of the PDFs' streams (fpdf2's class setting, for the duration of our output): the
# default (6) costs ~10% of a class's PDFs for files ~8% smaller
STREAM_COMPRESSION = 1
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
        self._faces: dict[tuple[Path, str], tuple[TTFFont, _Program | bytes]] = {}
        try:
            self.regular = self._subset(False, reg, self.dir / "regular")
            self.bold = self._subset(True, set(self.bold_chars), self.dir / "bold")
        except Exception:  # pragma: no cover - an unusual font: fall back to the full face
            self.regular = self.bold = None

    def face(self, pdf, path: Path, fontkey: str, style: str) -> TTFFont:
        """The document's font object for a subset face. fpdf2 parses the font file and builds its
        width tables for every document; here that happens once per process and each document
        gets a copy with its own state: glyphs used, descriptor, and its font program, cut to
        those glyphs when the file is written (`_Cut`; fontTools' subsetter for a CFF face)."""
        key = (path, style)
        if key not in self._faces:
            proto = TTFFont(pdf, path, fontkey, style)
            self._faces[key] = (proto, _Program(proto.ttfont) if _FAST_OUTPUT and not proto.is_cff
                                else path.read_bytes())
        proto, program = self._faces[key]
        font = copy.copy(proto)
        font.i = len(pdf.fonts) + 1
        font.desc = copy.copy(proto.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        if isinstance(program, _Program):
            font.ttfont = _Cut(program)
        else:  # recalcBBoxes off: fontTools would execute every kept charstring for bounding
            # boxes that are valid already; PDF viewers use the descriptor fpdf2 writes
            font.ttfont = TTFont(io.BytesIO(program), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
        font.subset = SubsetMap(font)
        if font.is_cff and font.is_cid_keyed:  # the CFF fallback of `_subset`, as fpdf2's add_font
            pdf._set_min_pdf_version("1.6")
        return font

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_faces": {}}  # parsed faces stay in their process

    @staticmethod
    def _subset(bold: bool, chars: set[str], target: Path) -> Path:
        """The face cut to `chars`, saved under `target`: TrueType outlines built from a CFF face
        (`_glyf_face`), else (a TrueType face, or outlines cu2qu cannot convert) fontTools' subset."""
        face = find_cjk_font(bold)
        try:
            font = _glyf_face(face, chars)
        except Exception:  # pragma: no cover - see above
            font = _subset_face(face, chars)
        try:
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


def _subset_face(face: FontFace, chars: set[str]) -> TTFont:
    """fontTools' subset of the face to `chars`, without the tables fpdf2 does not use."""
    opts = ftsubset.Options()
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.layout_features = []
    opts.drop_tables += ["BASE", "GDEF", "GPOS", "GSUB", "JSTF", "MATH", "vhea", "vmtx", "VORG", "DSIG"]
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    for tag in opts.drop_tables:  # before the subsetter decompiles the layout tables it drops
        if tag in font:
            del font[tag]
    sub = ftsubset.Subsetter(opts)
    sub.populate(unicodes=sorted(ord(c) for c in chars))
    sub.subset(font)
    return font


def _glyf_face(face: FontFace, chars: set[str]) -> TTFont:
    """The CFF face's glyphs for `chars` (and .notdef) as a TrueType-outline font (quadratic curves
    by cu2qu, within one font unit), built straight from the face's glyph set with its own head,
    hhea, OS/2 and name tables: fpdf2 cuts a font program for every PDF, which for CFF means
    interpreting charstrings in pure Python, for glyf copying bytes. (fontTools' subsetter would
    first cut the CFF table, executing every kept charstring twice more.)"""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    src = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    if "CFF " not in src:
        raise ValueError(f"{face.path}: not a CFF face")
    cmap = {code: name for code, name in src.getBestCmap().items() if chr(code) in chars}
    order = sorted({".notdef", *cmap.values()}, key=src.getGlyphID)
    glyph_set = src.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    post = src["post"]
    font = FontBuilder(src["head"].unitsPerEm, isTTF=True)
    font.setupGlyphOrder(order)
    font.setupCharacterMap(cmap)
    font.setupGlyf(glyphs)
    font.setupHorizontalMetrics({name: src["hmtx"][name] for name in order})
    font.setupMaxp()
    font.setupPost(keepGlyphNames=True, italicAngle=post.italicAngle, underlinePosition=post.underlinePosition,
                   underlineThickness=post.underlineThickness, isFixedPitch=post.isFixedPitch)
    for tag in ("head", "hhea", "OS/2", "name"):
        font.font[tag] = src[tag]
    font.font["head"].glyphDataFormat = 0
    return font.font


class _Program:
    """A TrueType subset face as raw pieces (glyph outlines, metrics, code points, the other tables),
    from which each document's font program is cut by concatenating bytes: fontTools' subsetter
    takes ~5 ms a face for what is a copy of a few hundred glyphs (fpdf2 runs it for every face of
    every PDF: 4,000 times for a 50,000-student grade)."""

    def __init__(self, font: TTFont):
        self.order = font.getGlyphOrder()
        self.gid = {name: i for i, name in enumerate(self.order)}
        glyf, loca = font.reader["glyf"], font["loca"]
        self.outlines = [glyf[loca[i]:loca[i + 1]] for i in range(len(self.order))]
        self.metrics = [font["hmtx"].metrics[name] for name in self.order]
        self.codes: dict[int, list[int]] = {}
        for code, name in font.getBestCmap().items():
            self.codes.setdefault(self.gid[name], []).append(code)
        self.tables = {tag: font.reader[tag] for tag in ("head", "hhea", "maxp", "OS/2", "post")}
        names = newTable("name")  # the English names fontTools keeps by default
        names.names = [r for r in font["name"].names if r.nameID <= 6 and (r.platformID, r.langID) == (3, 0x409)]
        self.tables["name"] = names.compile(font)

    def cut(self, names: Iterable[str]) -> tuple[dict[str, int], bytes]:
        """(glyph name → glyph id in the cut, the cut's font file): glyphs 0-3 (.notdef and the
        ones TrueType recommends, as fpdf2 asks fontTools for) and `names`, in the face's order."""
        keep = sorted(set(range(min(4, len(self.order)))) | {self.gid[n] for n in names if n in self.gid})
        outlines = [self.outlines[g] + b"\0" * (len(self.outlines[g]) % 2) for g in keep]
        offsets = [0]
        for o in outlines:
            offsets.append(offsets[-1] + len(o))
        short = offsets[-1] < 0x20000  # loca as half offsets in 16 bits
        metrics = [self.metrics[g] for g in keep]
        n = len(keep)
        full = n  # glyphs after the last change of advance width store their side bearing only
        while full > 1 and metrics[full - 2][0] == metrics[-1][0]:
            full -= 1
        t = self.tables
        head = bytearray(t["head"])
        head[8:12] = bytes(4)  # checkSumAdjustment, set by _sfnt
        head[50:52] = struct.pack(">h", 0 if short else 1)
        tables = {
            "head": bytes(head),
            "hhea": t["hhea"][:34] + struct.pack(">H", full) + t["hhea"][36:],
            "maxp": t["maxp"][:4] + struct.pack(">H", n) + t["maxp"][6:],
            "OS/2": t["OS/2"],
            "name": t["name"],
            "post": struct.pack(">I", 0x00030000) + t["post"][4:32],  # format 3: no glyph names
            "hmtx": b"".join(struct.pack(">Hh", *m) for m in metrics[:full])
                    + b"".join(struct.pack(">h", m[1]) for m in metrics[full:]),
            "glyf": b"".join(outlines),
            "loca": struct.pack(f">{n + 1}H", *(o // 2 for o in offsets)) if short
                    else struct.pack(f">{n + 1}I", *offsets),
            "cmap": _cmap(sorted((code, i) for i, g in enumerate(keep) for code in self.codes.get(g, ()))),
        }
        return {self.order[g]: i for i, g in enumerate(keep)}, _sfnt(tables)


def _checksum(data: bytes | bytearray) -> int:
    words = array.array("I", bytes(data) + b"\0" * (-len(data) % 4))
    if sys.byteorder == "little":
        words.byteswap()
    return sum(words) & 0xFFFFFFFF


def _sfnt(tables: dict[str, bytes]) -> bytes:
    """A TrueType font file of `tables` (directory sorted by tag, tables 4-byte aligned, the head
    table's checkSumAdjustment set)."""
    tags = sorted(tables)
    selector = len(tags).bit_length() - 1
    out = [struct.pack(">IHHHH", 0x00010000, len(tags), 16 << selector, selector, 16 * (len(tags) - (1 << selector)))]
    offset = 12 + 16 * len(tags)
    body, head = [], 0
    for tag in tags:
        data = tables[tag]
        out.append(struct.pack(">4sIII", tag.encode("latin-1"), _checksum(data), offset, len(data)))
        body.append(data + b"\0" * (-len(data) % 4))
        head = offset if tag == "head" else head
        offset += len(body[-1])
    font = bytearray(b"".join(out + body))
    font[head + 8:head + 12] = struct.pack(">I", (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF)
    return bytes(font)


def _cmap(pairs: list[tuple[int, int]]) -> bytes:
    """A cmap of (code point, glyph id) pairs: format 4 for the BMP, and format 12 for all when
    there are code points beyond it."""
    bmp = [(c, g) for c, g in pairs if c <= 0xFFFF]
    segments: list[list[int]] = []  # [first, last, glyph id - code point]
    for c, g in bmp:
        if segments and c == segments[-1][1] + 1 and g - c == segments[-1][2]:
            segments[-1][1] = c
        else:
            segments.append([c, c, g - c])
    segments.append([0xFFFF, 0xFFFF, 1])
    k = len(segments)
    selector = k.bit_length() - 1
    body = (struct.pack(">HHHH", 2 * k, 2 << selector, selector, 2 * k - (2 << selector))
            + struct.pack(f">{k}H", *(s[1] for s in segments)) + b"\0\0"
            + struct.pack(f">{k}H", *(s[0] for s in segments))
            + struct.pack(f">{k}H", *(s[2] & 0xFFFF for s in segments)) + bytes(2 * k))
    subtables = [(3, 1, struct.pack(">HHH", 4, 6 + len(body), 0) + body)]
    if len(bmp) < len(pairs):
        groups: list[list[int]] = []  # [first, last, first glyph id]
        for c, g in pairs:
            if groups and c == groups[-1][1] + 1 and g == groups[-1][2] + c - groups[-1][0]:
                groups[-1][1] = c
            else:
                groups.append([c, c, g])
        subtables.append((3, 10, struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
                          + b"".join(struct.pack(">III", *grp) for grp in groups)))
    offset = 4 + 8 * len(subtables)
    records, data = [], []
    for platform, encoding, table in subtables:
        records.append(struct.pack(">HHI", platform, encoding, offset))
        data.append(table)
        offset += len(table)
    return struct.pack(">HH", 0, len(subtables)) + b"".join(records + data)


class _Cut:
    """The font program of one document's face, standing in for fpdf2's fontTools font: fpdf2's
    font writer asks the subsetter to cut it (`_Subsetter`), then for its glyph ids and bytes."""

    def __init__(self, program: _Program):
        self.program = program
        self.gids: dict[str, int] = {}
        self.data = b""

    def cut(self, names: Iterable[str]) -> None:
        self.gids, self.data = self.program.cut(names)

    def getGlyphID(self, name: str) -> int:  # noqa: N802 - fontTools' name
        return self.gids[name]

    def save(self, stream) -> None:
        stream.write(self.data)

    def close(self) -> None:
        return None

    def __contains__(self, tag: str) -> bool:  # fpdf2 looks for a "CFF " table
        return False


class _Subsetter(ftsubset.Subsetter):
    def subset(self, font) -> None:
        if isinstance(font, _Cut):
            font.cut(self.glyph_names_requested)
        else:
            super().subset(font)


def _fast_output() -> type[OutputProducer] | None:
    """fpdf2's OutputProducer whose font writer resolves `ftsubset` to a subsetter that cuts `_Cut`
    programs by copying bytes (fontTools' for any other font): fpdf2's own writer, run with one
    name rebound. None when the installed fpdf2 writes fonts differently (then fontTools cuts)."""
    write = OutputProducer._add_fonts
    if "ftsubset" not in write.__code__.co_names:  # pragma: no cover - another fpdf2
        return None
    names = dict(write.__globals__, ftsubset=types.SimpleNamespace(Options=ftsubset.Options, Subsetter=_Subsetter))
    rebound = types.FunctionType(write.__code__, names, write.__name__, write.__defaults__, write.__closure__)
    return type("FastOutputProducer", (OutputProducer,), {"_add_fonts": rebound})


_FAST_OUTPUT = _fast_output()


class SubsetPdf(CJKPdf):
    """A CJKPdf that loads the run's subset faces instead of the full collection."""

    def __init__(self, *args, fonts: SubsetFonts | None = None, **kwargs):
        self._subset_fonts = fonts
        super().__init__(*args, **kwargs)

    def add_font(self, family=None, style="", fname=None, **kwargs):  # type: ignore[override]
        fonts = getattr(self, "_subset_fonts", None)
        if family == FAMILY and fonts is not None and fonts.regular is not None:
            style = "".join(sorted((style or "").upper()))
            path = fonts.bold if "B" in style and fonts.bold else fonts.regular
            fontkey = f"{family.lower()}{style}"
            self.fonts[fontkey] = fonts.face(self, path, fontkey, style)
            return None
        return super().add_font(family, style, fname, **kwargs)

    def output(self, *args, **kwargs):  # type: ignore[override]
        """fpdf2's output, cutting the subset faces with `_Program` (see `_fast_output`) and
        compressing the streams at STREAM_COMPRESSION."""
        if _FAST_OUTPUT is not None:
            kwargs.setdefault("output_producer_class", _FAST_OUTPUT)
        level, PDFContentStream._COMPRESSION_LEVEL = PDFContentStream._COMPRESSION_LEVEL, STREAM_COMPRESSION
        try:
            return super().output(*args, **kwargs)
        finally:
            PDFContentStream._COMPRESSION_LEVEL = level

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # per document: a cell's text and its width / its encoding recur (labels, numbers), and
        # so do a table's cell borders
        self._units: dict[int, dict[str, int]] = {}  # per font
        self._encoded: dict[int, dict[str, str]] = {}
        self._grids: dict[tuple, str] = {}

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
        k, page_h = self.k, self.h
        total = sum(widths)
        if fill:
            self.set_fill_color(*fill)
            self.rect(x, y, total, h, style="F")
        if (self.font_family, self.font_style, self.font_size_pt) != (FAMILY, style, size):
            self.set_font(FAMILY, style, size)
        font = self.current_font
        ops: list[str] = []
        if border:  # the cells' rectangles: only y changes from row to row of a table
            key = (x, tuple(widths), h)
            grid = self._grids.get(key)
            if grid is None:
                cells, cx = [], x
                for w in widths:
                    cells.append(f"{cx * k:.2f} \0 {w * k:.2f} {-h * k:.2f} re")
                    cx += w
                grid = self._grids[key] = " ".join(cells) + " S"
            ops.append(grid.replace("\0", f"{(page_h - y) * k:.2f}"))
        later = []
        texts_ops: list[str] = []
        cx = x
        margin = self.c_margin
        i = font.i
        units, encoded = self._units.setdefault(i, {}), self._encoded.setdefault(i, {})
        checked = self._checked
        if size > font.biggest_size_pt:
            font.biggest_size_pt = size
        head = f"BT /F{i} {size:.2f} Tf "
        base_y = f" {(page_h - (y + h / 2 + 0.3 * size / k)) * k:.2f} Td "
        for w, t, a in zip(widths, texts, aligns):
            s = "" if t is None else str(t)
            if s:
                if not s.isascii() and (checked[s] if s in checked else self.needs_fallback(s)):
                    later.append((cx, w, s, a))
                else:
                    pt = size
                    u = units.get(s)
                    if u is None:
                        u = units[s] = sum(font.cw[ord(c)] for c in s)
                    tw = u * pt * 0.001 / k  # fpdf2's get_text_width
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
                    code = encoded.get(s)
                    if code is None:  # encoding registers the glyphs in the document's subset
                        code = encoded[s] = font.encode_text(s)
                    if pt == size:
                        texts_ops.append(f"{head}{tx * k:.2f}{base_y}{code} ET")
                    else:
                        ty = y + h / 2 + 0.3 * pt / k
                        texts_ops.append(f"BT /F{i} {pt:.2f} Tf {tx * k:.2f} {(page_h - ty) * k:.2f} Td {code} ET")
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
