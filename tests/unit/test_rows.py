"""RowStore: float32 vectors by id, gathered at once."""

from __future__ import annotations

import numpy as np
import pytest

from matching.rows import RowStore


def _rows(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 4)).astype(np.float32)


def test_gather_returns_held_ids_in_the_order_asked_with_their_exact_values() -> None:
    store = RowStore(4)
    vectors = _rows(3)
    store.put(np.array([7, 2, 40]), vectors)
    keys, rows = store.gather(np.array([40, 3, 7, 1_000, -1, 2]))
    assert keys.tolist() == [40, 7, 2]
    assert rows.dtype == np.float32
    assert np.array_equal(rows, vectors[[2, 0, 1]])
    assert len(store) == 3


def test_put_replaces_and_drop_frees_rows_for_reuse() -> None:
    store = RowStore(4)
    store.put(np.arange(0, 30, 3), _rows(10))
    size = store.nbytes
    replacement = _rows(1, seed=1)
    store.put(np.array([3]), replacement)
    store.drop(np.array([6, 9, 99, -5]))
    assert len(store) == 8
    assert store.gather(np.array([6, 9]))[0].tolist() == []
    store.put(np.array([20, 21]), _rows(2, seed=2))  # the freed rows are used again
    assert store.nbytes == size
    keys, rows = store.gather(np.array([3, 20, 21]))
    assert keys.tolist() == [3, 20, 21]
    assert np.array_equal(rows[0], replacement[0])


def test_negative_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        RowStore(4).put(np.array([-1]), _rows(1))


def test_held_lists_every_id_ascending_with_its_row() -> None:
    store = RowStore(4)
    vectors = _rows(4)
    store.put(np.array([9, 1, 5, 3]), vectors)
    store.drop(np.array([5]))
    ids, rows = store.held()
    assert ids.tolist() == [1, 3, 9]
    assert np.array_equal(rows, vectors[[1, 3, 0]])
