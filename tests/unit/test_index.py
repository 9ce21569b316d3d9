"""VectorIndex on real FAISS, and snapshot files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.index import SnapshotError, VectorIndex, read_snapshot, write_snapshot


def _unit(rows: int, dimension: int = 8, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_returns_ids_best_first_and_upsert_replaces() -> None:
    vectors = _unit(5)
    index = VectorIndex(8)
    index.upsert([10, 20, 30, 40, 50], vectors)
    hits = index.search(vectors[2], 3)
    assert hits[0][0] == 30
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    index.upsert([30], vectors[0:1])
    assert len(index) == 5
    assert index.search(vectors[2], 1)[0][0] != 30


def test_removed_ids_are_never_returned() -> None:
    vectors = _unit(4)
    index = VectorIndex(8)
    index.upsert([1, 2, 3, 4], vectors)
    index.remove([2, 99])
    assert 2 not in {key for key, _ in index.search(vectors[1], 10)}
    assert len(index) == 3


def test_allowed_ids_restrict_the_search_exactly() -> None:
    vectors = _unit(50)
    index = VectorIndex(8)
    index.upsert(range(1, 51), vectors)
    hits = index.search(vectors[0], 10, allowed={7, 8, 9})
    assert {key for key, _ in hits} == {7, 8, 9}
    assert index.search(vectors[0], 10, allowed={999}) == []


def test_snapshot_round_trip(tmp_path: Path) -> None:
    vectors = _unit(6)
    index = VectorIndex(8)
    index.upsert(range(100, 106), vectors)
    path = tmp_path / "index.faiss"
    write_snapshot(path, {"seq": 7, "model_id": "m"}, {"a": index, "b": VectorIndex(8)})
    manifest, loaded = read_snapshot(path, 8)
    assert manifest == {"seq": 7, "model_id": "m"}
    assert loaded["a"].ids() == set(range(100, 106))
    assert loaded["a"].search(vectors[3], 1)[0][0] == 103
    assert len(loaded["b"]) == 0


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_damaged_snapshots_are_detected(tmp_path: Path, damage: str) -> None:
    index = VectorIndex(8)
    index.upsert(range(20), _unit(20))
    path = tmp_path / "index.faiss"
    write_snapshot(path, {"seq": 1}, {"a": index})
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "flip":
        data[-10] ^= 0xFF
    else:
        data = bytearray(b"not a snapshot at all")
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError):
        read_snapshot(path, 8)


def test_snapshot_of_another_dimension_is_refused(tmp_path: Path) -> None:
    index = VectorIndex(8)
    index.upsert([1], _unit(1))
    path = tmp_path / "index.faiss"
    write_snapshot(path, {}, {"a": index})
    with pytest.raises(SnapshotError, match="dimension"):
        read_snapshot(path, 16)
