"""A scrutiny-board briefing built from the aggregates, rendered as Markdown or HTML.

Sections: scope; headline themes; strengths and areas for development per
service area (counts and one to three short evidence quotes each); what is
rising (the emerging-themes test); themes over time; themes by audit grade;
and the trend of audit grades, good or better against not yet good.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2
import pandas as pd

from nlp.aggregate import (
    NOT_RECORDED,
    TIME_GROUPINGS,
    EvidenceQuery,
    Filters,
    Frames,
    apply_filters,
    evidence,
    prevalence,
)
from nlp.codebook import get_codebook
from nlp.emerging import emerging
from nlp.errors import CodebookError, InputError

TEMPLATES = Path(__file__).resolve().parent / "templates"
GOOD_OR_BETTER: tuple[str, ...] = ("outstanding", "good")
NOT_YET_GOOD: tuple[str, ...] = ("requires_improvement", "inadequate")
QUOTE_CHARS = 180
#: evidence shorter than this is usually a heading or fragment, a weak quote
MIN_QUOTE_CHARS = 40


@dataclass(frozen=True)
class LabelSummary:
    """One label's count in a section, with short evidence quotes."""

    label: str
    theme: str
    polarity: str
    title: str
    docs: int
    cases: int
    share: float
    quotes: list[str]


@dataclass(frozen=True)
class AreaSection:
    service_area: str
    title: str
    documents: int
    strengths: list[LabelSummary]
    developments: list[LabelSummary]


@dataclass(frozen=True)
class RisingItem:
    label: str
    title: str
    recent_share: float
    baseline_share: float
    difference: float
    ci_low: float
    ci_high: float
    q_value: float
    quotes: list[str]


@dataclass(frozen=True)
class ShareTable:
    """Shares of documents per row label (rows) and column group (columns)."""

    columns: list[str]
    rows: list[tuple[str, list[float | None]]]
    totals: list[int]


@dataclass(frozen=True)
class Briefing:
    title: str
    generated: date
    documents: int
    cases: int
    date_from: date | None
    date_to: date | None
    filters: list[str]
    headline_concerns: list[LabelSummary]
    headline_strengths: list[LabelSummary]
    areas: list[AreaSection]
    rising: list[RisingItem]
    rising_window: str
    rising_note: str
    themes_over_time: ShareTable
    themes_by_grade: ShareTable
    grade_trend: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def _codebook_labels() -> dict[str, str]:
    try:
        return {t.id: t.label for t in get_codebook().themes}
    except CodebookError:  # an unreadable codebook must not stop a report
        return {}


def theme_title(key: str) -> str:
    """Human name of a theme id from the codebook, else of any id (``early_help``:
    ``Early help``)."""
    return _codebook_labels().get(key) or key.replace("_", " ").capitalize()


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """Collapse whitespace and cut at a word boundary, marking the cut with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[: limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _quotes(frames: Frames, label: str, n: int) -> list[str]:
    """Up to ``n`` distinct quotes: most confident first, then full sentences before
    fragments such as headings, then shorter ones."""
    rows = evidence(frames, EvidenceQuery(label=label, limit=len(frames.tags)))
    if rows.empty:
        return []
    length = rows["evidence"].astype(str).str.len()
    rows = rows.assign(_fragment=length < MIN_QUOTE_CHARS, _len=length)
    rows = rows.sort_values(["confidence", "_fragment", "_len"], ascending=[False, True, True])
    return _distinct_quotes(rows["evidence"], n)


def _distinct_quotes(texts: Iterable[object], n: int) -> list[str]:
    quotes: list[str] = []
    for text in texts:
        quote = shorten(str(text))
        if quote not in quotes:
            quotes.append(quote)
        if len(quotes) == n:
            break
    return quotes


def _summaries(frames: Frames, table: pd.DataFrame, polarity: str, top: int,
               n_quotes: int) -> list[LabelSummary]:
    rows = table[(table["polarity"] == polarity) & (table["docs"] > 0)]
    rows = rows.sort_values(["docs", "cases", "label"], ascending=[False, False, True]).head(top)
    return [LabelSummary(label=r.label, theme=r.theme, polarity=r.polarity,
                         title=theme_title(r.theme), docs=int(r.docs), cases=int(r.cases),
                         share=float(r.doc_share),
                         quotes=_quotes(frames, r.label, n_quotes))
            for r in rows.itertuples()]


def _share_table(frames: Frames, column: str, labels: list[str]) -> ShareTable:
    table = prevalence(frames, by=[column], labels=labels)
    if table.empty:
        return ShareTable(columns=[], rows=[], totals=[])
    wide = table.pivot(index="label", columns=column, values="doc_share").reindex(labels)
    totals = table.drop_duplicates(column).set_index(column)["total_docs"]
    return ShareTable(
        columns=[str(c) for c in wide.columns],
        rows=[(label, [None if pd.isna(v) else float(v) for v in wide.loc[label]])
              for label in labels],
        totals=[int(totals[c]) for c in wide.columns])


def _grade_band(docs: pd.DataFrame) -> pd.DataFrame:
    band = pd.Series(None, index=docs.index, dtype=object)
    band[docs["grade"].isin(GOOD_OR_BETTER)] = "good_or_better"
    band[docs["grade"].isin(NOT_YET_GOOD)] = "not_yet_good"
    return docs.assign(grade=band).dropna(subset=["grade"])


def _grade_trend(frames: Frames, period: str) -> list[dict[str, Any]]:
    graded = _grade_band(frames.docs).dropna(subset=["date"])
    if graded.empty:
        return []
    periods = graded["date"].dt.to_period(TIME_GROUPINGS[period]).astype(str)
    wide = pd.crosstab(periods, graded["grade"]).reindex(
        columns=["good_or_better", "not_yet_good"], fill_value=0)
    return [{"period": str(p), "good_or_better": int(r.good_or_better),
             "not_yet_good": int(r.not_yet_good),
             "share_good": r.good_or_better / (r.good_or_better + r.not_yet_good)}
            for p, r in zip(wide.index, wide.itertuples(), strict=True)]


def _rising(frames: Frames, recent_months: int, alpha: float, min_support: int,
            n_quotes: int) -> tuple[list[RisingItem], str, str]:
    try:
        result = emerging(frames, recent_months=recent_months, alpha=alpha,
                          min_support=min_support, n_examples=n_quotes)
    except InputError as exc:
        return [], "", str(exc)
    w = result.windows
    window = (f"{w.recent_start:%b %Y}–{w.recent_end:%b %Y} against "
              f"{w.baseline_start:%b %Y}–{w.baseline_end:%b %Y}")
    flagged = result.table[result.table["flagged"]]
    items = [RisingItem(label=r.label, title=theme_title(r.theme),
                        recent_share=float(r.recent_share), baseline_share=float(r.baseline_share),
                        difference=float(r.difference), ci_low=float(r.ci_low),
                        ci_high=float(r.ci_high), q_value=float(r.q_value),
                        quotes=_distinct_quotes(result.examples[r.label]["evidence"], n_quotes))
             for r in flagged.itertuples()]
    tested = int(result.table["tested"].sum())
    note = (f"{tested} labels had enough support to test; {len(items)} rose significantly "
            f"(Benjamini–Hochberg q < {alpha}).")
    return items, window, note


def build_briefing(frames: Frames, filters: Filters | None = None, *,
                   title: str = "Practice themes briefing", period: str = "quarter",
                   top: int = 5, per_area: int = 3, n_quotes: int = 2,
                   recent_months: int = 3, alpha: float = 0.05, min_support: int = 5,
                   today: date | None = None) -> Briefing:
    """Assemble every section of the briefing for the selected documents."""
    if not 1 <= n_quotes <= 3:
        raise InputError("n_quotes must be between 1 and 3")
    frames = apply_filters(frames, filters)
    if frames.docs.empty:
        raise InputError("no documents match the filters")
    overall = prevalence(frames)
    areas = []
    by_area = prevalence(frames, by=["service_area"])
    for area, table in by_area.groupby("service_area", sort=True):
        area_frames = _area_frames(frames, str(area))
        areas.append(AreaSection(
            service_area=str(area), title=theme_title(str(area)),
            documents=int(table["total_docs"].iloc[0]),
            strengths=_summaries(area_frames, table, "strength", per_area, n_quotes),
            developments=_summaries(area_frames, table, "concern", per_area, n_quotes)))
    top_labels = (overall[overall["docs"] > 0]
                  .sort_values(["docs", "label"], ascending=[False, True])["label"]
                  .head(2 * top).tolist())
    rising, window, note = _rising(frames, recent_months, alpha, min_support, n_quotes)
    dates = frames.docs["date"].dropna()
    return Briefing(
        title=title, generated=today or date.today(),
        documents=len(frames.docs), cases=int(frames.docs["case_id"].nunique()),
        date_from=dates.min().date() if len(dates) else None,
        date_to=dates.max().date() if len(dates) else None,
        filters=_describe(filters),
        headline_concerns=_summaries(frames, overall, "concern", top, n_quotes),
        headline_strengths=_summaries(frames, overall, "strength", top, n_quotes),
        areas=areas, rising=rising, rising_window=window, rising_note=note,
        themes_over_time=_share_table(frames, period, top_labels),
        themes_by_grade=_share_table(Frames(_grade_band(frames.docs), frames.tags), "grade",
                                     top_labels),
        grade_trend=_grade_trend(frames, period))


def _area_frames(frames: Frames, area: str) -> Frames:
    column = frames.docs["service_area"]
    mask = column.isna() if area == NOT_RECORDED else column == area
    return Frames(frames.docs[mask], frames.tags)


def _describe(filters: Filters | None) -> list[str]:
    if filters is None:
        return []
    parts = [f"{name.replace('_', ' ')}: {', '.join(values)}"
             for name, values in filters.meta_items()]
    if filters.start or filters.end:
        parts.append(f"dates: {filters.start or '…'} to {filters.end or '…'}")
    return parts


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["md"] = lambda text: str(text).translate(_MD_SPECIAL)
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.0f}%"
    env.filters["pp"] = lambda v: f"{100 * v:+.1f} pp"
    env.filters["title"] = theme_title
    return env


def render_briefing(briefing: Briefing, fmt: Literal["markdown", "html"] = "markdown") -> str:
    """Render a briefing with the Jinja2 template of the format."""
    if fmt not in ("markdown", "html"):
        raise InputError("format must be markdown or html")
    name = "briefing.md.j2" if fmt == "markdown" else "briefing.html.j2"
    return _environment(autoescape=fmt == "html").get_template(name).render(b=briefing)
