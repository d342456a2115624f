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
        return cls(normalise_docs(docs), _normalise_tags(tags))


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
    """Build :class:`Frames` from analysis results.

    Two shapes are read: ``Analysis.to_dict()`` (metadata under ``meta``) and the
    rows of a batch results file (metadata at the top level, with ``status``;
    rows whose status is ``error`` were not analysed and are skipped).  The id
    is ``id`` or ``doc_id``; a result without one is numbered by position.
    """
    doc_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for position, result in enumerate(results):
        if result.get("status") == "error":
            continue
        meta = result.get("meta") or result
        doc_id = str(meta.get("id") or meta.get("doc_id") or f"doc-{position}")
        doc_rows.append({"doc_id": doc_id, **{c: meta.get(c) for c in DOC_COLUMNS[1:]}})
        for tag in result.get("tags") or ():
            label = tag.get("label") or f"{tag['theme']}:{tag['polarity']}"
            tag_rows.append({"doc_id": doc_id, "label": label,
                             **{c: tag.get(c) for c in TAG_COLUMNS[2:]}})
    return Frames.build(pd.DataFrame(doc_rows, columns=list(DOC_COLUMNS)),
                        pd.DataFrame(tag_rows, columns=list(TAG_COLUMNS)))


def read_results_jsonl(path: str | Path) -> Frames:
    """Read a results file: a ``caselens batch`` JSONL output or ``Analysis.to_dict()`` lines."""
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


def normalise_docs(docs: pd.DataFrame) -> pd.DataFrame:
    """Check and coerce a docs table: string ids, case ids filled, dates as datetimes."""
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


def filter_mask(docs: pd.DataFrame, filters: Filters | None) -> np.ndarray:
    """Which rows of ``docs`` match ``filters``, as a boolean array."""
    mask = np.ones(len(docs), dtype=bool)
    if filters is None:
        return mask
    if filters.start is not None:
        mask &= (docs["date"] >= pd.Timestamp(filters.start)).to_numpy()
    if filters.end is not None:
        mask &= (docs["date"] < pd.Timestamp(filters.end) + pd.Timedelta(days=1)).to_numpy()
    for column, values in filters.meta_items():
        mask &= docs[column].isin(values).to_numpy()
    return mask


def apply_filters(frames: Frames, filters: Filters | None) -> Frames:
    """Keep the documents matching ``filters`` and the tags of those documents."""
    mask = filter_mask(frames.docs, filters)
    if mask.all():
        return frames
    kept = frames.docs[mask]
    return Frames(kept.reset_index(drop=True),
                  frames.tags[frames.tags["doc_id"].isin(kept["doc_id"])].reset_index(drop=True))


def _check_groupings(by: Sequence[str]) -> list[str]:
    unknown = [g for g in by if g not in GROUPINGS]
    if unknown:
        raise InputError(f"cannot group by {', '.join(unknown)}; "
                         f"choose from {', '.join(GROUPINGS)}")
    if len(set(by)) != len(by):
        raise InputError("a grouping is repeated")
    return list(by)


# --------------------------------------------------------------------------- counting


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting, many times faster than its hashing path."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _distinct_per(keys: np.ndarray, items: np.ndarray, n_keys: int, n_items: int) -> np.ndarray:
    """Number of distinct ``items`` per key (keys in ``[0, n_keys)``)."""
    combined = _sorted_unique(keys.astype(np.int64) * max(n_items, 1) + items)
    return np.bincount(combined // max(n_items, 1), minlength=n_keys)


class LabelIndex:
    """Documents and their distinct labels as integer codes, for fast repeated counting.

    Built once from the ``docs`` table and the (document position, label) of every
    tag; each count is then a few ``bincount``/``unique`` calls over arrays, so a
    million tags aggregate in well under a second.  Group keys are computed
    lazily and kept.  Treat an index as immutable: build a new one when the data
    change.
    """

    def __init__(self, docs: pd.DataFrame, tag_doc: np.ndarray, tag_labels: Sequence[str]) -> None:
        """``docs`` is a normalised docs table; ``tag_doc[i]`` is the row in ``docs`` of the
        document of tag i (-1: not among them) and ``tag_labels[i]`` its label."""
        self.docs = docs.reset_index(drop=True)
        tag_doc = np.asarray(tag_doc, dtype=np.int64)
        label_codes, names = pd.factorize(pd.Series(tag_labels, dtype=object), sort=True)
        self.label_names = np.asarray(names, dtype=object)
        n_labels = max(len(self.label_names), 1)
        known = tag_doc >= 0
        pairs = _sorted_unique(tag_doc[known] * n_labels + label_codes[known])
        self.pair_doc, self.pair_label = pairs // n_labels, pairs % n_labels
        self.case_code, case_names = pd.factorize(self.docs["case_id"])
        self.n_cases = len(case_names)
        self._keys: dict[str, tuple[np.ndarray, list[str]]] = {}

    @classmethod
    def from_frames(cls, frames: Frames) -> LabelIndex:
        positions = pd.Index(frames.docs["doc_id"]).get_indexer(frames.tags["doc_id"])
        return cls(frames.docs, positions, frames.tags["label"].tolist())

    def _key(self, grouping: str) -> tuple[np.ndarray, list[str]]:
        """Per-document code of one grouping (-1 when undated) and the sorted key values."""
        if grouping not in self._keys:
            if grouping in TIME_GROUPINGS:
                values = self.docs["date"].dt.to_period(TIME_GROUPINGS[grouping])
            else:
                values = self.docs[grouping].fillna(NOT_RECORDED)
            codes, uniques = pd.factorize(values, sort=True)
            self._keys[grouping] = (codes.astype(np.int64), [str(u) for u in uniques])
        return self._keys[grouping]

    def _groups(self, by: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Per-document group code (-1: not groupable) and the key values of each group."""
        if not by:
            return np.zeros(len(self.docs), dtype=np.int64), pd.DataFrame(index=range(1))
        codes, uniques = zip(*(self._key(g) for g in by), strict=True)
        sizes = [max(len(u), 1) for u in uniques]
        valid = np.logical_and.reduce([c >= 0 for c in codes])
        combined = np.ravel_multi_index([np.where(valid, c, 0) for c in codes], sizes)
        used = _sorted_unique(combined[valid])
        inverse = np.searchsorted(used, combined[valid])
        group = np.full(len(self.docs), -1, dtype=np.int64)
        group[valid] = inverse
        parts = np.unravel_index(used, sizes)
        values = pd.DataFrame({g: np.asarray(u, dtype=object)[p]
                               for g, u, p in zip(by, uniques, parts, strict=True)})
        return group, values

    def counts(self, by: Sequence[str] = (),
               filters: Filters | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per-label counts ``[*by, label, docs, cases]`` (non-zero rows) and group totals
        ``[*by, total_docs, total_cases]`` (groups with documents; one row without ``by``)."""
        by = _check_groupings(by)
        group, values = self._groups(by)
        selected = filter_mask(self.docs, filters) & (group >= 0)
        n_groups, n_labels = len(values), max(len(self.label_names), 1)
        total_docs = np.bincount(group[selected], minlength=n_groups)
        total_cases = _distinct_per(group[selected], self.case_code[selected], n_groups,
                                    self.n_cases)
        totals = values.assign(total_docs=total_docs, total_cases=total_cases)
        if by:
            totals = totals[total_docs > 0].reset_index(drop=True)
        keep = selected[self.pair_doc]
        docs_of_pairs = self.pair_doc[keep]
        cell = group[docs_of_pairs] * n_labels + self.pair_label[keep]
        docs = np.bincount(cell, minlength=n_groups * n_labels)
        cases = _distinct_per(cell, self.case_code[docs_of_pairs], n_groups * n_labels,
                              self.n_cases)
        hit = np.nonzero(docs)[0]
        counts = values.iloc[hit // n_labels].reset_index(drop=True).assign(
            label=self.label_names[hit % n_labels], docs=docs[hit], cases=cases[hit])
        return counts, totals

    def prevalence(self, by: Sequence[str] = (), filters: Filters | None = None,
                   labels: Sequence[str] | None = None) -> pd.DataFrame:
        """See :func:`prevalence`."""
        counts, totals = self.counts(by, filters)
        return prevalence_from_counts(counts, totals, list(by), labels)

    def trends(self, freq: str = "month", by: Sequence[str] = (),
               filters: Filters | None = None,
               labels: Sequence[str] | None = None) -> pd.DataFrame:
        """See :func:`trends`."""
        if freq not in TIME_GROUPINGS:
            raise InputError(f"freq must be one of {', '.join(TIME_GROUPINGS)}")
        if freq in by:
            raise InputError("freq must not also be a grouping")
        keys = [freq, *by]
        counts, totals = self.counts(keys, filters)
        return prevalence_from_counts(counts, complete_periods(totals, freq, list(by)), keys,
                                      labels)

    def cooccurrence(self, filters: Filters | None = None, min_count: int = 1) -> pd.DataFrame:
        """See :func:`cooccurrence`."""
        selected = filter_mask(self.docs, filters)
        keep = selected[self.pair_doc]
        return _cooccurrence(self.pair_doc[keep], self.pair_label[keep], self.label_names,
                             int(selected.sum()), min_count)

    def months(self, filters: Filters | None = None) -> list[str]:
        """``YYYY-MM`` of every month with a selected, dated document."""
        codes, uniques = self._key("month")
        present = _sorted_unique(codes[filter_mask(self.docs, filters) & (codes >= 0)])
        return [uniques[c] for c in present]

    def documents(self, filters: Filters | None = None) -> int:
        """Number of selected documents."""
        return int(filter_mask(self.docs, filters).sum())


def prevalence_from_counts(counts: pd.DataFrame, totals: pd.DataFrame, by: Sequence[str],
                           labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Join per-label counts to group totals, zero-filling labels absent from a group."""
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
    return LabelIndex.from_frames(frames).prevalence(by, filters, labels)


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
    return LabelIndex.from_frames(frames).trends(freq, by, filters, labels)


# --------------------------------------------------------------------------- association


def cooccurrence(frames: Frames, filters: Filters | None = None,
                 min_count: int = 1) -> pd.DataFrame:
    """Pairs of labels found in the same document, with lift and Jaccard index.

    ``lift = n_ab · N / (n_a · n_b)`` over the N selected documents: above 1 the
    labels appear together more often than independence would give.
    Columns: ``label_a, label_b, count, count_a, count_b, lift, jaccard`` with
    ``label_a < label_b``, sorted by lift then count.
    """
    return LabelIndex.from_frames(frames).cooccurrence(filters, min_count)


def _cooccurrence(pair_doc: np.ndarray, pair_label: np.ndarray, names: np.ndarray,
                  n_docs: int, min_count: int) -> pd.DataFrame:
    columns = ["label_a", "label_b", "count", "count_a", "count_b", "lift", "jaccard"]
    if len(pair_doc) == 0:
        return pd.DataFrame(columns=columns)
    doc_codes, _ = pd.factorize(pair_doc)
    indicator = sparse.csr_matrix(
        (np.ones(len(pair_doc), dtype=np.int64), (doc_codes, pair_label)),
        shape=(doc_codes.max() + 1, len(names)))
    both = (indicator.T @ indicator).tocoo()
    upper = (both.row < both.col) & (both.data >= min_count)
    a, b, n_ab = both.row[upper], both.col[upper], both.data[upper]
    singles = np.asarray(indicator.sum(axis=0)).ravel()
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
