"""Charts as inline SVG made on the server: no script, no chart library, no network; they print as
vectors. Every text that reaches the SVG is escaped."""
from __future__ import annotations

from markupsafe import Markup, escape

W, H = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 28, 48
COLOURS = ("#2b6cb0", "#dd6b20", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#97266d", "#4a5568",
           "#c05621")


def _frame(title: str, body: list[str], legend: list[tuple[str, str]], kind: str) -> Markup:
    items = []
    x = LEFT
    for colour, label in legend:
        items.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="17" class="legend">{escape(label)}</text>')
        x += 24 + 13 * len(label)
    return Markup(f'<svg class="chart" data-chart="{escape(kind)}" viewBox="0 0 {W} {H}" role="img" '
                  f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}"><title>{escape(title)}</title>'
                  + "".join(items) + "".join(body) + "</svg>")


def _axis_y(lo: float, hi: float, fmt, invert: bool = False, ticks: int = 4) -> list[str]:
    out = []
    for i in range(ticks + 1):
        v = lo + (hi - lo) * i / ticks
        y = _y(v, lo, hi, invert)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{escape(fmt(v))}</text>')
    return out


def _y(v: float, lo: float, hi: float, invert: bool = False) -> float:
    share = 0.0 if hi == lo else (v - lo) / (hi - lo)
    if invert:
        share = 1 - share
    return H - BOTTOM - share * (H - TOP - BOTTOM)


def bars(title: str, categories: list[str], series: list[tuple[str, list[float | None]]], y_max: float = 1.0,
         percent: bool = True) -> Markup:
    """Grouped bars: one group per category, one bar per series (e.g. the class against the grade)."""
    y_max = y_max or 1.0
    fmt = (lambda v: f"{v * 100:.0f}%") if percent else (lambda v: f"{v:g}")
    body = _axis_y(0, y_max, fmt)
    n = max(len(categories), 1)
    group = (W - LEFT - RIGHT) / n
    bar = group * 0.8 / max(len(series), 1)
    for i, cat in enumerate(categories):
        gx = LEFT + i * group + group * 0.1
        for j, (label, values) in enumerate(series):
            v = values[i]
            if v is None:
                continue
            y = _y(min(max(v, 0), y_max), 0, y_max)
            body.append(f'<rect class="bar" x="{gx + j * bar:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                        f'height="{H - BOTTOM - y:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                        f'<title>{escape(label)} {escape(cat)}: {escape(fmt(v))}</title></rect>')
        if n <= 24 or i % (n // 24 + 1) == 0:
            body.append(f'<text x="{gx + group * 0.4:.1f}" y="{H - BOTTOM + 16}" class="tick" text-anchor="middle">'
                        f'{escape(cat)}</text>')
    return _frame(title, body, [(COLOURS[j % len(COLOURS)], s[0]) for j, s in enumerate(series)], "bars")


def rank_lines(title: str, points: list[str], series: list[tuple[str, list[float | None]]]) -> Markup:
    """Lines of grade rank across exams (rank 1 at the top), one per subject."""
    ranks = [v for _, vs in series for v in vs if v is not None]
    hi = max(ranks, default=1)
    lo = 1
    hi = max(hi, lo + 1)
    body = _axis_y(lo, hi, lambda v: f"{v:.0f}", invert=True)
    n = max(len(points), 1)
    step = (W - LEFT - RIGHT) / n
    xs = [LEFT + step * (i + 0.5) for i in range(n)]
    for i, p in enumerate(points):
        body.append(f'<text x="{xs[i]:.1f}" y="{H - BOTTOM + 16}" class="tick" text-anchor="middle">{escape(p)}</text>')
    for j, (label, values) in enumerate(series):
        colour = COLOURS[j % len(COLOURS)]
        pts = [(xs[i], _y(v, lo, hi, invert=True), v) for i, v in enumerate(values) if v is not None]
        if len(pts) > 1:
            body.append(f'<polyline class="line" fill="none" stroke="{colour}" stroke-width="2" points="'
                        + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts) + '"/>')
        for x, y, v in pts:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                        f'<title>{escape(label)}: {v:.0f}</title></circle>')
    return _frame(title, body, [(COLOURS[j % len(COLOURS)], s[0]) for j, s in enumerate(series)], "lines")
