"""What every part of the generator shares: seeded random streams, number formatting, the response
vocabulary (bubbled letters, tokens, numeric answers as codes) and the chunked CSV writer."""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl

CHUNK = 100_000          # rows per polars write

# response vocabulary: one code per cell text
LETTERS = "ABCDEFG"
MASKS = [""] + ["".join(LETTERS[i] for i in range(7) if m >> i & 1) for m in range(1, 128)]
LOWER_OFF = 127                    # code m + 127 = lower-case letters of mask m
V_STAR, V_QMARK, V_DASH, V_H = 255, 256, 257, 258
NUM_BASE = 259                     # code NUM_BASE + v = the digits of v (0..999)
VOCAB = MASKS + [m.lower() for m in MASKS[1:]] + ["*", "?", "-", "H"] + [str(v) for v in range(1000)]
POPCOUNT = np.array([bin(i).count("1") for i in range(128)])


def seeded_rng(seed: int, *parts) -> np.random.Generator:
    """A random stream of its own per purpose (`parts`), so that drawing more in one part does not
    shift the draws of another."""
    key = [int(seed) & 0xFFFFFFFF] + [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(key)


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def num_value(v) -> int | float:
    """A number as written in files: whole numbers as int (150, not 150.0)."""
    v = float(v)
    return int(v) if v.is_integer() else v


def fmt_num(v) -> str:
    return repr(num_value(v))


def half_up_05(x):
    return np.floor(x * 2 + 0.5) / 2


def fmt_scores(x: np.ndarray) -> pl.Series:
    """Marks as text: integers without '.0', NaN as null."""
    s = pl.Series(np.asarray(x, dtype=np.float64))
    return pl.select(
        pl.when(s.is_nan()).then(None)
        .when(s == s.floor()).then(s.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(s.round(2).cast(pl.String))
    ).to_series()


_VOCAB = pl.Series(VOCAB)
_VOCAB_NULL = pl.Series([None] + VOCAB[1:], dtype=pl.String)


def response_series(codes: np.ndarray, quoted_blank: bool = False) -> pl.Series:
    idx = codes.astype(np.int64)
    return (_VOCAB if quoted_blank else _VOCAB_NULL).gather(idx)


def _nullify(df: pl.DataFrame) -> pl.DataFrame:
    """Empty strings as nulls, so a plain CSV shows an empty field (not "")."""
    return df.with_columns(
        pl.when(pl.col(pl.String) == "").then(None).otherwise(pl.col(pl.String)).name.keep())


def write_csv(path: Path, frames: Iterator[pl.DataFrame], *, encoding: str = "utf-8", sep: str = ",",
              bom: bool = False, crlf: bool = False, quote_all: bool = False) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "wb") as f:
        if bom:
            f.write(b"\xef\xbb\xbf")
        first = True
        for df in frames:
            if not quote_all:
                df = _nullify(df)
            text = df.write_csv(separator=sep, include_header=first, line_terminator="\r\n" if crlf else "\n",
                                quote_style="always" if quote_all else "necessary")
            f.write(text.encode(encoding))
            first = False
            n += df.height
    return n


def row_chunks(lo: int, hi: int, size: int = CHUNK):
    for a in range(lo, hi, size):
        yield a, min(hi, a + size)
