"""Server-rendered SVG charts: no JavaScript and no network, so they render offline.

Each function returns escaped SVG markup ready for a Jinja2 template.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

#: sequential scale for shares (light to dark blue)
_LOW, _HIGH = (239, 243, 255), (8, 48, 107)
#: line colours, distinguishable for common colour-vision deficiencies (Okabe–Ito)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: a label in a period."""

    row: str
    column: str
    share: float | None
    docs: int
    total: int
    href: str | None


def _svg_open(kind: str, width: float, height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{kind}" role="img" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">')


def _colour(fraction: float) -> str:
    r, g, b = (round(lo + (hi - lo) * fraction) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return f"rgb({r},{g},{b})"


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def heatmap(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Cell],
            row_title: Callable[[str], str] = str) -> Markup:
    """A rows × columns grid coloured by share; cells with an ``href`` are links."""
    cell_w, cell_h, left, top = 44, 24, 270, 64
    width, height = left + cell_w * len(columns) + 10, top + cell_h * len(rows) + 10
    peak = max((c.share for c in cells if c.share is not None), default=0) or 1
    parts = [_svg_open("heatmap", width, height),
             "<title>Share of documents with each theme, by period</title>"]
    for j, column in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        parts.append(f'<text class="col" x="{x}" y="{top - 8}" '
                     f'transform="rotate(-45 {x} {top - 8})">{escape(column)}</text>')
    for i, row in enumerate(rows):
        parts.append(f'<text class="row" x="{left - 8}" y="{top + i * cell_h + cell_h / 2 + 4}" '
                     f'text-anchor="end">{escape(row_title(row))}</text>')
    row_at = {r: i for i, r in enumerate(rows)}
    col_at = {c: j for j, c in enumerate(columns)}
    for cell in cells:
        if cell.row not in row_at or cell.column not in col_at:
            continue
        x, y = left + col_at[cell.column] * cell_w, top + row_at[cell.row] * cell_h
        if cell.share is None:
            parts.append(f'<rect class="empty" x="{x}" y="{y}" width="{cell_w - 2}" '
                         f'height="{cell_h - 2}"><title>no documents</title></rect>')
            continue
        fraction = cell.share / peak
        tip = (f"{row_title(cell.row)} — {cell.column}: {cell.docs} of {cell.total} "
               f"documents ({_pct(cell.share)})")
        ink = "#fff" if fraction > 0.55 else "#1b1b1b"
        body = (f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{_colour(fraction)}"><title>{escape(tip)}</title></rect>'
                f'<text x="{x + (cell_w - 2) / 2}" y="{y + cell_h / 2 + 3}" fill="{ink}" '
                f'text-anchor="middle">{_pct(cell.share)}</text>')
        if cell.href:
            body = (f'<a class="cell" href="{escape(cell.href)}" '
                    f'data-label="{escape(cell.row)}" data-period="{escape(cell.column)}">'
                    f'{body}</a>')
        parts.append(body)
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(columns: Sequence[str], series: dict[str, list[float | None]],
               series_title: Callable[[str], str] = str) -> Markup:
    """Lines of shares over periods (gaps where a period has no documents), with a legend."""
    width, height, left, right, top, bottom = 760, 280, 48, 250, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for line in series.values() for v in line if v is not None]
    peak = max(values, default=0) or 1
    step = plot_w / max(len(columns) - 1, 1)

    def point(j: int, v: float) -> str:
        return f"{left + j * step:.1f},{top + plot_h * (1 - v / peak):.1f}"

    parts = [_svg_open("lines", width, height),
             "<title>Share of documents over time</title>"]
    for k in range(5):
        v = peak * k / 4
        y = top + plot_h * (1 - k / 4)
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}"/>'
                     f'<text class="tick" x="{left - 6}" y="{y + 4}" text-anchor="end">'
                     f'{_pct(v)}</text>')
    every = max(1, len(columns) // 12)
    for j, column in enumerate(columns):
        if j % every == 0:
            x = left + j * step
            parts.append(f'<text class="tick" x="{x}" y="{top + plot_h + 16}" '
                         f'transform="rotate(-40 {x} {top + plot_h + 16})" text-anchor="end">'
                         f'{escape(column)}</text>')
    for k, (name, line) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for j, v in enumerate(line):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(point(j, v))
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                             f'points="{" ".join(run)}"/>')
            elif run:
                x, y = run[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
        y = top + 14 * k
        parts.append(f'<line x1="{width - right + 12}" x2="{width - right + 30}" y1="{y}" '
                     f'y2="{y}" stroke="{colour}" stroke-width="3"/>'
                     f'<text class="legend" x="{width - right + 36}" y="{y + 4}">'
                     f'{escape(series_title(name))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
