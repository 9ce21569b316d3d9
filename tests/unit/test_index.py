"""VectorIndex on real FAISS, and snapshot files."""

from __future__ import annotations

import threading
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
    manifest, loaded, _ = read_snapshot(path, 8)
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


# -- approximate mode, forced by a small threshold ---------------------------------

THRESHOLD = 500
DIMENSION = 64


def _clustered(rows: int, seed: int = 0, centres: int = 40) -> np.ndarray:
    """Unit vectors around a few centres: neighbours mostly, not only, share one."""
    rng = np.random.default_rng(seed)
    middle = _unit(centres, DIMENSION, seed + 1000)
    noise = rng.normal(size=(rows, DIMENSION)).astype(np.float32) / np.sqrt(DIMENSION)
    vectors = middle[rng.integers(0, centres, rows)] + noise
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return ids[np.argsort(-(vectors @ query), kind="stable")[:k]].tolist()


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray]:
    """3,000 clustered vectors under ids 1,000 … 3,999."""
    return np.arange(1000, 4000, dtype=np.int64), _clustered(3000)


def _approximate(corpus: tuple[np.ndarray, np.ndarray]) -> VectorIndex:
    ids, vectors = corpus
    index = VectorIndex(DIMENSION, threshold=THRESHOLD)
    index.upsert(ids.tolist(), vectors)
    assert index.approximate
    return index


def test_approximate_mode_keeps_recall_at_10(corpus: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = corpus
    index = _approximate(corpus)
    info = index.describe()
    assert info["mode"] == "approximate"
    assert 1 <= info["nprobe"] < info["nlist"]
    queries = _clustered(100, seed=5)
    found = sum(
        len({key for key, _ in index.search(query, 10)} & set(_exact_top(vectors, ids, query, 10)))
        for query in queries
    )
    assert found / (10 * len(queries)) >= 0.98


def test_approximate_vectors_are_accurate_for_rescoring(
    corpus: tuple[np.ndarray, np.ndarray],
) -> None:
    ids, vectors = corpus
    index = _approximate(corpus)
    stored = index.vectors(ids[:400].tolist())
    assert len(stored) == 400
    rows = np.vstack([stored[key] for key in ids[:400].tolist()])
    query = _clustered(1, seed=9)[0]
    assert np.abs(rows @ query - vectors[:400] @ query).max() < 1e-3
    assert index.search(vectors[7], 1)[0][0] == ids[7]


def test_approximate_upsert_replaces_and_remove_forgets(
    corpus: tuple[np.ndarray, np.ndarray],
) -> None:
    ids, vectors = corpus
    index = _approximate(corpus)
    key = int(ids[10])
    index.upsert([key], vectors[20:21])
    assert len(index) == len(ids)
    assert np.allclose(index.vectors([key])[key], vectors[20], atol=1e-3)
    assert key in {hit for hit, _ in index.search(vectors[20], 2)}
    assert key not in {hit for hit, _ in index.search(vectors[10], 5)}
    gone = ids[100:150].tolist()
    index.remove([*gone, 99_999_999])
    assert len(index) == len(ids) - 50
    assert not any(key in index for key in gone)
    assert index.vectors(gone) == {}
    for row in range(100, 150):
        assert not {hit for hit, _ in index.search(vectors[row], 10)} & set(gone)


def test_repeated_id_in_one_upsert_keeps_the_last_row() -> None:
    vectors = _unit(3)
    index = VectorIndex(8)
    index.upsert([5, 6, 5], vectors)
    assert len(index) == 2
    assert np.allclose(index.vectors([5])[5], vectors[2])


def test_allowed_is_exact_when_narrow_and_fills_k_when_wide(
    corpus: tuple[np.ndarray, np.ndarray],
) -> None:
    ids, vectors = corpus
    index = _approximate(corpus)
    query = _clustered(1, seed=11)[0]
    narrow = ids[::150]  # 20 ids
    hits = index.search(query, 10, allowed=set(narrow.tolist()) | {12_345_678})
    expected = _exact_top(vectors[::150], narrow, query, 10)
    assert [key for key, _ in hits] == expected
    wide_rows = np.arange(0, len(ids), 2)  # 1,500 ids: more than EXACT_ALLOWED_MAX
    wide = set(ids[wide_rows].tolist())
    hits = index.search(query, 200, allowed=wide)
    assert len(hits) == 200
    assert {key for key, _ in hits} <= wide
    best = set(_exact_top(vectors[wide_rows], ids[wide_rows], query, 200))
    assert len(best & {key for key, _ in hits}) >= 0.95 * 200


def test_approximate_snapshot_round_trip(
    tmp_path: Path, corpus: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, _ = corpus
    index = _approximate(corpus)
    index.remove(ids[:5].tolist())
    path = tmp_path / "index.faiss"
    write_snapshot(path, {"seq": 3}, {"a": index})
    _, loaded, _ = read_snapshot(path, DIMENSION, threshold=THRESHOLD)
    again = loaded["a"]
    assert again.approximate
    assert again.describe() == index.describe()
    assert again.ids() == index.ids()
    for query in _clustered(20, seed=13):
        assert again.search(query, 50) == index.search(query, 50)
    some = ids[5:300].tolist()
    before, after = index.vectors(some), again.vectors(some)
    assert all(np.array_equal(before[key], after[key]) for key in some)
    again.remove([int(ids[6])])  # the direct map came back: removal by id works
    assert int(ids[6]) not in again


def test_growth_across_the_threshold_switches_mode_and_keeps_every_id() -> None:
    vectors = _clustered(2600, seed=3)
    index = VectorIndex(DIMENSION, threshold=THRESHOLD)
    lists = []
    for start in range(0, len(vectors), 20):
        index.upsert(range(start, start + 20), vectors[start : start + 20])
        assert index.approximate == (start + 20 > THRESHOLD)
        if index.approximate:
            lists.append(index.describe()["nlist"])
    assert len(set(lists)) > 1  # retrained once it had grown enough
    assert index.ids() == set(range(len(vectors)))
    stored = index.vectors(range(len(vectors)))
    assert np.abs(np.vstack([stored[key] for key in range(len(vectors))]) - vectors).max() < 1e-3
    assert index.search(vectors[1234], 1)[0][0] == 1234
    index.remove(range(200, len(vectors)))  # below half the threshold: exact again
    assert not index.approximate
    assert index.ids() == set(range(200))
    assert index.search(vectors[17], 1)[0][0] == 17


def test_concurrent_snapshot_writers_use_separate_temporary_files(tmp_path: Path) -> None:
    vectors = _unit(200)
    index = VectorIndex(8)
    index.upsert(range(200), vectors)
    path = tmp_path / "index.faiss"
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(seq: int) -> None:
        start.wait()
        try:
            for _ in range(5):
                write_snapshot(path, {"seq": seq}, {"a": index})
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(seq,)) for seq in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    manifest, loaded, _ = read_snapshot(path, 8)
    assert manifest["seq"] in {1, 2}
    assert loaded["a"].ids() == set(range(200))
    assert [item.name for item in tmp_path.iterdir()] == ["index.faiss"]


def test_too_small_a_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        VectorIndex(8, threshold=1)


def test_approximate_rows_are_the_exact_vectors_through_changes_and_a_snapshot(
    tmp_path: Path, corpus: tuple[np.ndarray, np.ndarray]
) -> None:
    """The codes only find candidates; rows for re-scoring must be the vectors given,
    bit for bit, after replacements, removals, re-additions, new ids and a snapshot."""
    ids, vectors = corpus
    index = _approximate(corpus)
    index.upsert(ids[:30].tolist(), vectors[100:130])  # replaced
    index.remove(ids[200:260].tolist())
    index.upsert(ids[200:230].tolist(), vectors[300:330])  # back, into freed rows
    index.upsert([50_000, 50_001], vectors[:2])  # new ids past the position array
    expected = {key: vectors[row] for row, key in enumerate(ids.tolist())}
    expected.update(zip(ids[:30].tolist(), vectors[100:130], strict=True))
    expected.update(zip(ids[200:230].tolist(), vectors[300:330], strict=True))
    expected.update({50_000: vectors[0], 50_001: vectors[1]})
    for key in ids[230:260].tolist():
        del expected[key]
    path = tmp_path / "index.faiss"
    write_snapshot(path, {"seq": 1}, {"a": index})
    loaded = read_snapshot(path, DIMENSION, threshold=THRESHOLD).indexes["a"]
    wanted = np.concatenate([ids[::-7], [50_001, 99, 50_000]])
    for held in (index, loaded):
        keys, rows = held.rows(wanted)
        assert keys.tolist() == [key for key in wanted.tolist() if key in expected]
        assert np.array_equal(rows, np.vstack([expected[key] for key in keys.tolist()]))


def test_approximate_search_ranks_by_exact_scores(corpus: tuple[np.ndarray, np.ndarray]) -> None:
    """8-bit codes move scores by up to 2e-3: a search re-ranks its hits by the exact
    vectors, so the scores it returns are exact and in order."""
    ids, vectors = corpus
    index = _approximate(corpus)
    by_id = dict(zip(ids.tolist(), vectors, strict=True))
    for query in _clustered(10, seed=17):
        hits = index.search(query, 50)
        assert [key for key, _ in hits] == [
            key for key, _ in sorted(hits, key=lambda hit: (-hit[1], hit[0]))
        ]
        assert all(
            score == pytest.approx(float(by_id[key] @ query), abs=1e-6) for key, score in hits
        )


def test_candidates_in_code_order_are_nearly_the_exact_ones(
    corpus: tuple[np.ndarray, np.ndarray],
) -> None:
    """Without re-ranking (what candidate retrieval asks), the hits are the codes'
    best: nearly the same ids as the re-ranked search, with scores within 8-bit error."""
    ids, vectors = corpus
    index = _approximate(corpus)
    by_id = dict(zip(ids.tolist(), vectors, strict=True))
    for query in _clustered(10, seed=19):
        exact = {key for key, _ in index.search(query, 50)}
        coded = index.search(query, 50, exact_order=False)
        assert len(coded) == 50
        assert len(exact & {key for key, _ in coded}) >= 45
        assert all(abs(score - float(by_id[key] @ query)) < 5e-3 for key, score in coded)


def test_a_snapshot_part_without_its_rows_is_refused(
    corpus: tuple[np.ndarray, np.ndarray],
) -> None:
    data = _approximate(corpus).to_bytes()
    with pytest.raises(SnapshotError, match="rows"):
        VectorIndex.from_bytes(data[: len(data) - 100], DIMENSION, threshold=THRESHOLD)
