"""Counting ids per row into a canonical CSR layout, shared by the featurisers."""
from __future__ import annotations

import numpy as np


def counted_rows(indices: np.ndarray, indptr: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, column ids, row pointers) of ids given row by row (``indices``/``indptr``).

    Each row's distinct ids come out in ascending order, counted, in one pass
    over the whole batch (``np.unique`` on row-major keys): the same canonical
    matrix as building it with duplicates and summing them.
    """
    n_rows = len(indptr) - 1
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))
    keys, counts = np.unique(rows * width + indices, return_counts=True)
    kept_rows, columns = np.divmod(keys, width)
    row_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(kept_rows, minlength=n_rows), out=row_ptr[1:])
    return counts, columns, row_ptr
