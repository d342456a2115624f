"""Aggregate stored tags into prevalence, trends, co-occurrence and evidence tables.

Every function takes the same two pandas DataFrames, bundled as :class:`Frames`:

``docs`` — one row per document (documents with no tags included, since they
count in every denominator):

=============  ==========================================================
doc_id         document id (str, unique)
case_id        pseudonymous case reference (str; the doc_id when unknown)
date           recording date (``datetime64``; NaT when unknown)
service_area   ``early_help`` … ``care_leavers`` (str or missing)
team           free text (str or missing)
doc_type       ``case_note`` … ``plan_review`` (str or missing)
grade          audit grade ``outstanding`` … ``inadequate`` (str or missing)
=============  ==========================================================

``tags`` — one row per tag (one label on one evidence sentence):

=============  ==========================================================
doc_id         the tagged document
label          ``THEME:POLARITY``
theme          theme id
polarity       ``concern`` or ``strength``
evidence       the evidence sentence
start, end     character offsets of the evidence in the original text
confidence     detector confidence in [0, 1]
=============  ==========================================================

A document "has" a label when at least one of its tags carries it; counts are
of documents and of distinct cases, never of tags.  Missing categorical
metadata is reported as :data:`NOT_RECORDED`; documents without a date are left
out of time groupings (they cannot be placed in a month).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from nlp.errors import InputError
from nlp.taxonomy import LABELS

DOC_COLUMNS: tuple[str, ...] = (
    "doc_id", "case_id", "date", "service_area", "team", "doc_type", "grade",
)
TAG_COLUMNS: tuple[str, ...] = (
    "doc_id", "label", "theme", "polarity", "evidence", "start", "end", "confidence",
)
#: groupings derived from the date, with their pandas period frequency
TIME_GROUPINGS: dict[str, str] = {"month": "M", "quarter": "Q", "year": "Y"}
META_GROUPINGS: tuple[str, ...] = ("service_area", "team", "doc_type", "grade")
GROUPINGS: tuple[str, ...] = (*TIME_GROUPINGS, *META_GROUPINGS)
NOT_RECORDED = "not_recorded"


@dataclass(frozen=True)
class Frames:
    """The ``docs`` and ``tags`` tables every aggregate is computed from."""

    docs: pd.DataFrame
    tags: pd.DataFrame

    @classmethod
    def build(cls, docs: pd.DataFrame, tags: pd.DataFrame) -> Frames:
        """Validate columns and coerce dtypes of two caller-made tables."""
        return cls(_normalise_docs(docs), _normalise_tags(tags))


@dataclass(frozen=True)
class Filters:
    """Which documents to aggregate over; empty tuples mean "no restriction".

    ``start`` and ``end`` are inclusive dates; a date filter drops undated documents.
    """

    start: date | None = None
    end: date | None = None
    service_area: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    doc_type: tuple[str, ...] = ()
    grade: tuple[str, ...] = ()
    case_id: tuple[str, ...] = ()

    def meta_items(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        """The non-empty metadata restrictions as (column, allowed values)."""
        for name in ("service_area", "team", "doc_type", "grade", "case_id"):
            values = getattr(self, name)
            if values:
                yield name, values


# --------------------------------------------------------------------------- building


def frames_from_results(results: Iterable[Mapping[str, Any]]) -> Frames:
    """Build :class:`Frames` from ``Analysis.to_dict()``-style results.

    Each result has the document's metadata in ``meta`` (its id as ``id`` or
    ``doc_id``) and its ``tags``; a result without an id is numbered by position.
    """
    doc_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for position, result in enumerate(results):
        meta = result.get("meta") or {}
        doc_id = str(meta.get("id") or meta.get("doc_id") or f"doc-{position}")
        doc_rows.append({"doc_id": doc_id, **{c: meta.get(c) for c in DOC_COLUMNS[1:]}})
        for tag in result.get("tags") or ():
            label = tag.get("label") or f"{tag['theme']}:{tag['polarity']}"
            tag_rows.append({"doc_id": doc_id, "label": label,
                             **{c: tag.get(c) for c in TAG_COLUMNS[2:]}})
    return Frames.build(pd.DataFrame(doc_rows, columns=list(DOC_COLUMNS)),
                        pd.DataFrame(tag_rows, columns=list(TAG_COLUMNS)))


def read_results_jsonl(path: str | Path) -> Frames:
    """Read a batch results file (one ``Analysis.to_dict()`` object a line)."""
    path = Path(path)

    def rows() -> Iterable[Mapping[str, Any]]:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"not JSON ({exc.msg})", where=f"{path}:{number}") from exc

    return frames_from_results(rows())


def _require(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{name} table lacks column(s) {', '.join(missing)}")


def _normalise_docs(docs: pd.DataFrame) -> pd.DataFrame:
    _require(docs, ("doc_id",), "docs")
    out = docs.reindex(columns=list(DOC_COLUMNS)).copy()
    out["doc_id"] = out["doc_id"].astype(str)
    if out["doc_id"].duplicated().any():
        raise InputError("docs table has duplicate doc_id values")
    out["case_id"] = out["case_id"].where(out["case_id"].notna(), out["doc_id"]).astype(str)
    out["date"] = pd.to_datetime(out["date"], errors="coerce")
    for column in META_GROUPINGS:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out.reset_index(drop=True)


def _normalise_tags(tags: pd.DataFrame) -> pd.DataFrame:
    _require(tags, ("doc_id", "label"), "tags")
    out = tags.reindex(columns=list(TAG_COLUMNS)).copy()
    out["doc_id"] = out["doc_id"].astype(str)
    out["label"] = out["label"].astype(str)
    theme, polarity = label_parts(out["label"])
    out["theme"] = out["theme"].where(out["theme"].notna(), theme)
    out["polarity"] = out["polarity"].where(out["polarity"].notna(), polarity)
    out["confidence"] = pd.to_numeric(out["confidence"], errors="coerce")
    return out.reset_index(drop=True)


def label_parts(labels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Theme and polarity columns of a column of ``THEME:POLARITY`` labels."""
    parts = labels.astype(str).str.extract(r"^(?P<theme>[^:]*):?(?P<polarity>.*)$")
    return parts["theme"], parts["polarity"]


# --------------------------------------------------------------------------- filtering


def apply_filters(frames: Frames, filters: Filters | None) -> Frames:
    """Keep the documents matching ``filters`` and the tags of those documents."""
    if filters is None:
        return frames
    docs = frames.docs
    mask = pd.Series(True, index=docs.index)
    if filters.start is not None:
        mask &= docs["date"] >= pd.Timestamp(filters.start)
    if filters.end is not None:
        mask &= docs["date"] < pd.Timestamp(filters.end) + pd.Timedelta(days=1)
    for column, values in filters.meta_items():
        mask &= docs[column].isin(values)
    if bool(mask.all()):
        return frames
    kept = docs[mask]
    return Frames(kept.reset_index(drop=True),
                  frames.tags[frames.tags["doc_id"].isin(kept["doc_id"])].reset_index(drop=True))


def _check_groupings(by: Sequence[str]) -> list[str]:
    unknown = [g for g in by if g not in GROUPINGS]
    if unknown:
        raise InputError(f"cannot group by {', '.join(unknown)}; choose from {', '.join(GROUPINGS)}")
    if len(set(by)) != len(by):
        raise InputError("a grouping is repeated")
    return list(by)


def group_keys(docs: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """``doc_id``, ``case_id`` and one key column per grouping, for every groupable doc.

    Time keys are period strings (``2025-03``, ``2025Q1``, ``2025``).
    """
    by = _check_groupings(by)
    keys = docs[["doc_id", "case_id"]].copy()
    for grouping in by:
        if grouping in TIME_GROUPINGS:
            keys[grouping] = docs["date"].dt.to_period(TIME_GROUPINGS[grouping]).astype(str)
            keys.loc[docs["date"].isna(), grouping] = None
        else:
            keys[grouping] = docs[grouping].fillna(NOT_RECORDED)
    time_keys = [g for g in by if g in TIME_GROUPINGS]
    return keys.dropna(subset=time_keys) if time_keys else keys


# --------------------------------------------------------------------------- counting


def group_totals(keys: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Documents and distinct cases per group (one row when ``by`` is empty)."""
    if not by:
        return pd.DataFrame({"total_docs": [len(keys)], "total_cases": [keys["case_id"].nunique()]})
    return (keys.groupby(list(by), sort=True)
            .agg(total_docs=("doc_id", "size"), total_cases=("case_id", "nunique"))
            .reset_index())


def label_counts(keys: pd.DataFrame, tags: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Documents and distinct cases carrying each label, per group."""
    pairs = tags[["doc_id", "label"]].drop_duplicates()
    joined = pairs.merge(keys, on="doc_id", how="inner")
    return (joined.groupby([*by, "label"], sort=True)
            .agg(docs=("doc_id", "size"), cases=("case_id", "nunique"))
            .reset_index())


def prevalence_from_counts(counts: pd.DataFrame, totals: pd.DataFrame, by: Sequence[str],
                           labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Join per-label counts to group totals, zero-filling labels absent from a group.

    ``counts`` has ``[*by, label, docs, cases]`` and ``totals`` ``[*by, total_docs,
    total_cases]``; the same shapes come from SQL when the data are large.
    """
    if labels is None:
        labels = sorted(set(LABELS) | set(counts["label"]))
    grid = totals.merge(pd.DataFrame({"label": list(labels)}), how="cross")
    out = grid.merge(counts, on=[*by, "label"], how="left")
    out[["docs", "cases"]] = out[["docs", "cases"]].fillna(0).astype("int64")
    out[["total_docs", "total_cases"]] = out[["total_docs", "total_cases"]].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["doc_share"] = out["docs"] / out["total_docs"].where(out["total_docs"] > 0)
        out["case_share"] = out["cases"] / out["total_cases"].where(out["total_cases"] > 0)
    out["theme"], out["polarity"] = label_parts(out["label"])
    out = out[[*by, "label", "theme", "polarity", "total_docs", "total_cases",
               "docs", "cases", "doc_share", "case_share"]]
    return out.sort_values([*by, "label"], kind="stable").reset_index(drop=True)


def prevalence(frames: Frames, by: Sequence[str] = (), filters: Filters | None = None,
               labels: Sequence[str] | None = None) -> pd.DataFrame:
    """For every label: documents and distinct cases with it, and their shares, per group.

    Columns: ``[*by, label, theme, polarity, total_docs, total_cases, docs, cases,
    doc_share, case_share]``.  ``labels`` defaults to the taxonomy plus any label present.
    """
    frames = apply_filters(frames, filters)
    keys = group_keys(frames.docs, by)
    by = list(by)
    return prevalence_from_counts(label_counts(keys, frames.tags, by),
                                  group_totals(keys, by), by, labels)


def complete_periods(totals: pd.DataFrame, freq: str, by: Sequence[str]) -> pd.DataFrame:
    """Add zero-document rows for periods missing between the first and last period.

    A month with no recordings is a gap in a trend line, not a missing x value.
    """
    if totals.empty:
        return totals
    periods = pd.PeriodIndex(totals[freq], freq=TIME_GROUPINGS[freq])
    full = pd.DataFrame({freq: pd.period_range(periods.min(), periods.max(),
                                               freq=TIME_GROUPINGS[freq]).astype(str)})
    if by:
        full = full.merge(totals[list(by)].drop_duplicates(), how="cross")
    out = full.merge(totals, on=[freq, *by], how="left")
    out[["total_docs", "total_cases"]] = out[["total_docs", "total_cases"]].fillna(0)
    return out.sort_values([freq, *by], kind="stable").reset_index(drop=True)


def trends(frames: Frames, freq: str = "month", by: Sequence[str] = (),
           filters: Filters | None = None, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Time series of :func:`prevalence` per label and group, with empty periods kept.

    Shares are NaN in periods without documents.
    """
    if freq not in TIME_GROUPINGS:
        raise InputError(f"freq must be one of {', '.join(TIME_GROUPINGS)}")
    if freq in by:
        raise InputError("freq must not also be a grouping")
    frames = apply_filters(frames, filters)
    keys_by = [freq, *by]
    keys = group_keys(frames.docs, keys_by)
    totals = complete_periods(group_totals(keys, keys_by), freq, list(by))
    return prevalence_from_counts(label_counts(keys, frames.tags, keys_by), totals, keys_by, labels)


# --------------------------------------------------------------------------- association


def cooccurrence(frames: Frames, filters: Filters | None = None,
                 min_count: int = 1) -> pd.DataFrame:
    """Pairs of labels found in the same document, with lift and Jaccard index.

    See :func:`cooccurrence_from_pairs`; N is the number of selected documents.
    """
    frames = apply_filters(frames, filters)
    pairs = frames.tags[["doc_id", "label"]]
    return cooccurrence_from_pairs(pairs[pairs["doc_id"].isin(frames.docs["doc_id"])],
                                   len(frames.docs), min_count)


def cooccurrence_from_pairs(pairs: pd.DataFrame, n_docs: int,
                            min_count: int = 1) -> pd.DataFrame:
    """Label pairs from (doc_id, label) rows, out of ``n_docs`` documents.

    ``lift = n_ab · N / (n_a · n_b)``: above 1 the labels appear together more
    often than independence would give.  Columns: ``label_a, label_b, count,
    count_a, count_b, lift, jaccard`` with ``label_a < label_b``, sorted by lift
    then count.
    """
    pairs = pairs[["doc_id", "label"]].drop_duplicates()
    columns = ["label_a", "label_b", "count", "count_a", "count_b", "lift", "jaccard"]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    doc_codes, _ = pd.factorize(pairs["doc_id"])
    label_codes, label_names = pd.factorize(pairs["label"], sort=True)
    indicator = sparse.csr_matrix(
        (np.ones(len(pairs), dtype=np.int64), (doc_codes, label_codes)),
        shape=(doc_codes.max() + 1, len(label_names)))
    both = (indicator.T @ indicator).tocoo()
    upper = (both.row < both.col) & (both.data >= min_count)
    a, b, n_ab = both.row[upper], both.col[upper], both.data[upper]
    singles = np.asarray(indicator.sum(axis=0)).ravel()
    names = np.asarray(label_names)
    out = pd.DataFrame({"label_a": names[a], "label_b": names[b], "count": n_ab,
                        "count_a": singles[a], "count_b": singles[b]})
    out["lift"] = out["count"] * n_docs / (out["count_a"] * out["count_b"])
    out["jaccard"] = out["count"] / (out["count_a"] + out["count_b"] - out["count"])
    return out.sort_values(["lift", "count", "label_a", "label_b"],
                           ascending=[False, False, True, True]).reset_index(drop=True)


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class EvidenceQuery:
    """Which evidence sentences to show: a label (or theme) inside filtered documents."""

    label: str | None = None
    theme: str | None = None
    filters: Filters = field(default_factory=Filters)
    limit: int = 50
    offset: int = 0


def evidence(frames: Frames, query: EvidenceQuery) -> pd.DataFrame:
    """Evidence sentences behind an aggregate cell, newest and most confident first."""
    frames = apply_filters(frames, query.filters)
    tags = frames.tags
    if query.label is not None:
        tags = tags[tags["label"] == query.label]
    if query.theme is not None:
        tags = tags[tags["theme"] == query.theme]
    joined = tags.merge(frames.docs, on="doc_id", how="inner")
    joined = joined.sort_values(["date", "confidence", "doc_id", "start"],
                                ascending=[False, False, True, True], na_position="last")
    return joined.iloc[query.offset: query.offset + query.limit].reset_index(drop=True)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM``, ``YYYYQn`` or ``YYYY`` period string."""
    for freq in TIME_GROUPINGS.values():
        try:
            p = pd.Period(period, freq=freq)
        except ValueError:
            continue
        if str(p) == period:
            return p.start_time.date(), p.end_time.date()
    raise InputError(f"{period!r} is not a month (2025-03), quarter (2025Q1) or year (2025)")
