"""Vector index on FAISS keyed by database ids, and its snapshot file.

Vectors are unit-length float32, so inner product is cosine similarity; ids are
profile ids. One :class:`VectorIndex` has one of two modes, chosen by its size
(figures from ``python -m bench.ann_index`` on clustered 384-d vectors, one
thread, on the 2-core development machine):

- **exact** while it holds at most ``threshold`` vectors (:data:`APPROXIMATE_THRESHOLD`,
  20,000): ``IndexIDMap2(IndexFlatIP)``. A scan of 20k vectors takes ~1.7 ms,
  and it grows linearly (5.7 ms at 50k, 11 ms at 100k, 55+ ms at 1M).
- **approximate** above it: ``IndexIVFScalarQuantizer`` with 8-bit codes (a
  quarter of the raw float32 bytes), ids stored in the lists and a hashtable
  direct map, so ``remove_ids`` costs O(1) per id. ``nlist`` is ``2·√n``
  (2,000 at 1M; 4·√n gave the same recall for the share of vectors scanned but
  trains 3x slower), trained by spherical k-means (10 iterations) on 40 sampled
  vectors per list. ``nprobe`` is measured right after training: the smallest
  step at which 200 stored vectors, used as queries, find their exact neighbours
  with recall@10 ≥ 0.99 and recall@200 ≥ 0.97 (:data:`RECALL_TARGETS`). The codes
  only find candidates (they move a cosine by up to 2e-3): the exact float32 vectors
  are kept in a NumPy matrix (:class:`matching.rows.RowStore`), a search re-ranks
  the lists' best ``k`` plus a margin (:func:`_oversampled`) by them, and
  re-scoring reads hundreds of them in one gather. Codes and rows come to about
  1.3x the raw float32 bytes. (Float16 codes with float16 rows took 1.0x, but
  converting 600 candidates' rows to float32 cost more than both searches.)

Switching policy, checked after every upsert and remove and on load:

- exact → approximate when the count exceeds ``threshold`` (trains on the
  current vectors: ~0.5 s at 20k);
- approximate is retrained once the count has grown :data:`RETRAIN_GROWTH` (4x)
  since its training, so training costs O(1) amortised per vector added; a
  retrain at 1M takes about a minute and blocks the caller (it happens during a
  build, a rebuild or the rare upsert that crosses the line). Any other upsert
  of a few vectors costs ~0.1 ms;
- approximate → exact when the count falls below half the threshold.

Searching with ``allowed`` stays exact for narrow filters: at most
:data:`EXACT_ALLOWED_MAX` allowed ids are scored directly from their stored
vectors; larger sets go through the index with an ID selector, in approximate
mode with ``nprobe / √share`` lists probed, and all lists (exact among the
allowed ids) if that returned fewer than ``k``.

Threads: the OpenMP thread count is per calling thread and a one-query search
pays for starting a thread team (a flat query on 100k vectors: 40 ms with two
threads, 10 ms with one), so every search and small upsert sets
:data:`SEARCH_THREADS` (1) around its FAISS call; training and bulk upserts use
all threads.

A snapshot holds several named indexes (each its FAISS bytes, then in approximate
mode its rows) and a manifest in one file, written to
a temporary file unique to the writer (pid and random suffix), fsynced and
renamed, so a crash or a concurrent writer leaves either one whole snapshot or
another, never half of one. Reading checks a checksum per part.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import struct
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import faiss
import numpy as np
import numpy.typing as npt

from matching.rows import RowStore

__all__ = [
    "APPROXIMATE_THRESHOLD",
    "EXACT_ALLOWED_MAX",
    "RECALL_TARGETS",
    "RETRAIN_GROWTH",
    "SEARCH_THREADS",
    "Snapshot",
    "SnapshotError",
    "VectorIndex",
    "read_snapshot",
    "write_snapshot",
]

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

APPROXIMATE_THRESHOLD = 20_000  # vectors held exactly; above, the approximate index
RETRAIN_GROWTH = 4  # retrain the approximate index once it has grown this many times
EXACT_ALLOWED_MAX = 1_000  # filters up to this many ids are scored exactly (~3 µs per id)
SEARCH_THREADS = 1  # OpenMP threads of a search and of a small upsert
RECALL_TARGETS = ((10, 0.99), (200, 0.97))  # (k, recall@k) that nprobe must reach

_MIN_THRESHOLD = 100
_BULK_THREADS = max(1, faiss.omp_get_max_threads())
_BULK_ROWS = 256  # upserts of at least this many rows use every thread
_POINTS_PER_LIST = 40  # k-means sample per list (FAISS asks for at least 39)
_KMEANS_ITERATIONS = 10
_CALIBRATION_QUERIES = 200
_NPROBE_STEPS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536)
_SCORE_TIE = 1e-5  # scores this close to the k-th exact one count as hits (duplicates)

_HASHTABLE: int = faiss.DirectMap.Hashtable  # type: ignore[attr-defined]  # not in the stub

_MAGIC = b"PMIDX2\n"  # the parts, then the header listing them, then its length
_LENGTH = struct.Struct("<Q")


class SnapshotError(Exception):
    """A snapshot file is missing, truncated, corrupt or built for another model."""


def _as_ids(ids: Iterable[int]) -> Ids:
    return np.fromiter(ids, dtype=np.int64)


@contextmanager
def _threads(count: int) -> Iterator[None]:
    """Let FAISS use ``count`` OpenMP threads in the calling thread, then restore."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


# -- building the two kinds of FAISS index --------------------------------------


def _exact_index(dimension: int, ids: Ids | None = None, vectors: Vectors | None = None) -> Any:
    """An ``IndexIDMap2(IndexFlatIP)``, filled with ``vectors`` when given."""
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if ids is not None and vectors is not None and len(ids):
        index.add_with_ids(vectors, ids)
    return index


def _list_count(count: int) -> int:
    """Inverted lists for ``count`` vectors: 2·√n, with enough points to train each."""
    return max(1, min(round(2 * math.sqrt(count)), count // _POINTS_PER_LIST))


def _trained_size(nlist: int) -> int:
    """About how many vectors an index with ``nlist`` lists was trained for."""
    return max(nlist * nlist // 4, nlist * _POINTS_PER_LIST)


def _oversampled(k: int) -> int:
    """How many hits an approximate search asks its lists for, to keep the best ``k``
    by exact score: 8-bit codes can swap neighbours whose scores differ by 2e-3."""
    return k + max(10, k // 4)


def _approximate_index(ids: Ids, vectors: Vectors) -> Any:
    """An IVF index with 8-bit codes trained on ``vectors``, filled, nprobe measured."""
    count, dimension = vectors.shape
    nlist = _list_count(count)
    index: Any = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dimension),
        dimension,
        nlist,
        faiss.ScalarQuantizer.QT_8bit,  # per-dimension ranges, trained
        faiss.METRIC_INNER_PRODUCT,
        False,  # encode vectors, not residuals: exact rows re-rank the hits
    )
    index.cp.niter = _KMEANS_ITERATIONS
    index.cp.spherical = True
    sample = np.random.default_rng(count).choice(
        count, size=min(count, nlist * _POINTS_PER_LIST), replace=False
    )
    started = time.perf_counter()
    index.train(vectors[np.sort(sample)])
    trained = time.perf_counter()
    index.set_direct_map_type(_HASHTABLE)
    index.add_with_ids(vectors, ids)
    # Lists grow by doubling while filled; a serialisation round trip sizes them exactly.
    index = faiss.deserialize_index(faiss.serialize_index(index))
    added = time.perf_counter()
    index.nprobe = _calibrate_nprobe(index, ids, vectors)
    log.info(
        "approximate index of %d vectors: nlist %d, nprobe %d; "
        "trained in %.1f s, filled in %.1f s, nprobe measured in %.1f s",
        count,
        nlist,
        index.nprobe,
        trained - started,
        added - trained,
        time.perf_counter() - added,
    )
    return index


def _calibrate_nprobe(index: Any, ids: Ids, vectors: Vectors) -> int:
    """The smallest nprobe step meeting :data:`RECALL_TARGETS` on stored vectors as
    queries (each query's own id left out), or every list if none does. Hits are
    re-ranked by exact score, as :meth:`VectorIndex.search` does."""
    depth = min(max(k for k, _ in RECALL_TARGETS), len(ids) - 1)
    steps = [step for step in _NPROBE_STEPS if step < index.nlist]
    if depth < 1 or not steps:
        return int(index.nlist)
    rows = np.random.default_rng(0).choice(
        len(ids), size=min(_CALIBRATION_QUERIES, len(ids)), replace=False
    )
    queries = np.ascontiguousarray(vectors[rows])
    exact, _ = faiss.knn(queries, vectors, depth + 1, metric=faiss.METRIC_INNER_PRODUCT)
    order = np.argsort(ids)
    for step in steps:
        _, found = index.search(queries, _oversampled(depth + 1), params=_ivf_params(step))
        positions = []
        for row, query, hits in zip(rows, queries, found, strict=True):
            at = order[np.searchsorted(ids, hits[(hits != ids[row]) & (hits != -1)], sorter=order)]
            positions.append(at[np.argsort(-(vectors[at] @ query), kind="stable")])
        if all(
            _recall(vectors, queries, exact, positions, min(k, depth)) >= target
            for k, target in RECALL_TARGETS
        ):
            return step
    return int(index.nlist)


def _recall(
    vectors: Vectors, queries: Vectors, exact: Vectors, positions: list[Ids], k: int
) -> float:
    """Mean share of the first ``k`` found (row positions) scoring at least the k-th
    exact neighbour's score, so equal vectors under other ids count as found."""
    shares = []
    for query, best, found in zip(queries, exact, positions, strict=True):
        scores = vectors[found[:k]] @ query
        shares.append(min(k, int(np.sum(scores >= best[k] - _SCORE_TIE))) / k)
    return float(np.mean(shares))


def _stored_ids(index: Any) -> Ids:
    """Every id held by an exact or an approximate index."""
    if isinstance(index, faiss.IndexIDMap2):
        ids: Ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids
    lists = index.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(number), size).copy()
        for number in range(index.nlist)
        if (size := lists.list_size(number))
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)


def _selector(keys: Ids) -> tuple[Any, Any]:
    """An ID selector for ``keys`` and the buffer it reads (keep both alive).

    A bitmap when the ids are dense enough (cheap to build and to test), else a
    hash set."""
    top = int(keys.max())
    if int(keys.min()) >= 0 and top < 32 * len(keys) + (1 << 16):
        bits = np.zeros(top + 1, dtype=bool)
        bits[keys] = True
        packed = np.packbits(bits, bitorder="little")
        return faiss.IDSelectorBitmap(top + 1, faiss.swig_ptr(packed)), packed
    return faiss.IDSelectorBatch(keys), keys


def _ivf_params(nprobe: int, selector: Any = None) -> Any:
    """Search parameters of an IVF index: lists to probe, optional ID selector."""
    params = faiss.SearchParametersIVF()
    params.nprobe = nprobe
    if selector is not None:
        params.sel = selector
    return params


def _hits(scores: Vectors, keys: Ids) -> list[tuple[int, float]]:
    found = keys != -1
    return list(zip(keys[found].tolist(), scores[found].tolist(), strict=True))


class VectorIndex:
    """Inner-product search over vectors keyed by integer ids: exact while small,
    approximate (IVF, 8-bit codes, exact rows) above ``threshold`` vectors (see the
    module notes)."""

    def __init__(
        self,
        dimension: int,
        faiss_index: Any | None = None,
        *,
        threshold: int | None = None,
        rows: RowStore | None = None,
    ) -> None:
        self.dimension = dimension
        self.threshold = APPROXIMATE_THRESHOLD if threshold is None else threshold
        if self.threshold < _MIN_THRESHOLD:
            raise ValueError(f"threshold must be at least {_MIN_THRESHOLD}")
        self._index: Any = _exact_index(dimension) if faiss_index is None else faiss_index
        self._ids: set[int] = set(_stored_ids(self._index).tolist())
        self._store = rows  # exact rows, approximate mode: the codes are not
        if self.approximate and (rows is None or len(rows) != len(self._ids)):
            raise ValueError("an approximate index needs the rows of all its ids")
        self._fit()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    @property
    def approximate(self) -> bool:
        """True in approximate (IVF) mode, False in exact mode."""
        return isinstance(self._index, faiss.IndexIVF)

    def describe(self) -> dict[str, Any]:
        """Mode, size and, in approximate mode, ``nlist`` and ``nprobe``."""
        found: dict[str, Any] = {
            "mode": "approximate" if self.approximate else "exact",
            "vectors": len(self),
            "threshold": self.threshold,
        }
        if self.approximate:
            found.update(nlist=int(self._index.nlist), nprobe=int(self._index.nprobe))
        return found

    @property
    def row_bytes(self) -> int:
        """Bytes of the exact rows kept beside the codes (approximate mode; else 0)."""
        return 0 if self._store is None else self._store.nbytes

    def ids(self) -> set[int]:
        """A copy of the ids held."""
        return set(self._ids)

    def upsert(self, ids: Iterable[int], vectors: Vectors) -> None:
        """Add vectors, replacing any already stored under the same ids (the last
        row wins when an id repeats)."""
        keys = _as_ids(ids)
        if len(keys) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if len(keys) == 0:
            return
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.dimension:
            raise ValueError(f"vectors must be rows of {self.dimension} values")
        _, last = np.unique(keys[::-1], return_index=True)
        if len(last) != len(keys):
            keep = len(keys) - 1 - last
            keys, rows = keys[keep], np.ascontiguousarray(rows[keep])
        with _threads(_BULK_THREADS if len(keys) >= _BULK_ROWS else SEARCH_THREADS):
            self._drop(keys.tolist())
            if not self.approximate and len(self._ids) + len(keys) > self.threshold:
                self._rebuild(approximate=True, keys=keys, rows=rows)  # no detour via flat
                return
            self._index.add_with_ids(rows, keys)
            self._ids.update(keys.tolist())
            if self._store is not None:
                self._store.put(keys, rows)
            self._fit()

    def remove(self, ids: Iterable[int]) -> None:
        """Remove ids; unknown ids are ignored."""
        with _threads(SEARCH_THREADS):
            if self._drop(ids):
                self._fit()

    def _drop(self, ids: Iterable[int]) -> bool:
        present = [key for key in ids if key in self._ids]
        if present:
            self._index.remove_ids(_as_ids(present))
            self._ids.difference_update(present)
            if self._store is not None:
                self._store.drop(_as_ids(present))
        return bool(present)

    def _fit(self) -> None:
        """Switch mode or retrain when the count calls for it (module notes)."""
        count = len(self._ids)
        if not self.approximate:
            if count > self.threshold:
                self._rebuild(approximate=True)
        elif count < self.threshold // 2:
            self._rebuild(approximate=False)
        elif count > RETRAIN_GROWTH * _trained_size(int(self._index.nlist)):
            self._rebuild(approximate=True)

    def _rebuild(
        self, *, approximate: bool, keys: Ids | None = None, rows: Vectors | None = None
    ) -> None:
        """Rebuild the FAISS index in the chosen mode from the vectors held, plus
        new ``keys``/``rows`` (not yet held) when given."""
        held, vectors = self.rows(np.sort(_as_ids(self._ids)))
        if keys is not None and rows is not None:
            if len(held):
                held, vectors = np.concatenate([held, keys]), np.concatenate([vectors, rows])
            else:  # a first bulk fill: no copy of what may be gigabytes
                held, vectors = keys, rows
        with _threads(_BULK_THREADS):
            self._index = (
                _approximate_index(held, vectors)
                if approximate
                else _exact_index(self.dimension, held, vectors)
            )
        self._store = None
        if approximate:
            self._store = RowStore(self.dimension)
            self._store.put(held, vectors)
        if keys is not None:
            self._ids.update(keys.tolist())

    def rows(self, ids: Iterable[int]) -> tuple[Ids, Vectors]:
        """The ids that are present, in the order given, and their stored vectors as
        one matrix (rows in the same order)."""
        keys = ids if isinstance(ids, np.ndarray) else _as_ids(ids)
        if self._store is not None:
            return self._store.gather(keys.astype(np.int64, copy=False))
        present = _as_ids(key for key in keys.tolist() if key in self._ids)
        if not len(present):
            return present, np.empty((0, self.dimension), dtype=np.float32)
        with _threads(SEARCH_THREADS):
            rows: Vectors = self._index.reconstruct_batch(present)
        return present, rows

    def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """The stored vectors of those ids that are present."""
        present, rows = self.rows(ids)
        return dict(zip(present.tolist(), rows, strict=True))

    def search(
        self,
        query: Vectors,
        k: int,
        allowed: Iterable[int] | None = None,
        *,
        exact_order: bool = True,
    ) -> list[tuple[int, float]]:
        """Top ``k`` (id, similarity) for one query vector, best first.

        ``allowed`` restricts the search to those ids (exactly, not by
        post-filtering), so a narrow filter still fills ``k`` results.
        ``exact_order=False`` skips the re-ranking by exact rows in approximate mode:
        the ``k`` best as the codes score them, for callers that score the hits
        themselves (candidate retrieval).
        """
        if not self._ids or k <= 0:
            return []
        row = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        with _threads(SEARCH_THREADS):
            if allowed is None:
                return self._search(row, min(k, len(self._ids)), exact_order=exact_order)
            present = self._ids.intersection(allowed)
            if not present:
                return []
            if len(present) <= EXACT_ALLOWED_MAX:
                return self._score_exactly(row[0], k, _as_ids(present))
            return self._search_allowed(
                row, min(k, len(present)), _as_ids(present), exact_order=exact_order
            )

    def _search(
        self,
        row: Vectors,
        k: int,
        selector: Any = None,
        nprobe: int = 0,
        *,
        exact_order: bool = True,
    ) -> list[tuple[int, float]]:
        """One FAISS search, restricted by ``selector`` when given."""
        params: Any = None
        if self.approximate:
            params = _ivf_params(nprobe or int(self._index.nprobe), selector)
        elif selector is not None:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        if not (self.approximate and exact_order):
            scores, keys = self._index.search(row, k, params=params)
            return _hits(scores[0], keys[0])
        _, keys = self._index.search(row, _oversampled(k), params=params)
        return self._score_exactly(row[0], k, keys[0][keys[0] != -1])

    def _search_allowed(
        self, row: Vectors, k: int, keys: Ids, *, exact_order: bool = True
    ) -> list[tuple[int, float]]:
        """Search among many allowed ids: exact in exact mode; in approximate mode
        more lists the narrower the filter, and all of them if ``k`` is not filled."""
        selector, _buffer = _selector(keys)
        if not self.approximate:
            return self._search(row, k, selector)
        nlist, nprobe = int(self._index.nlist), int(self._index.nprobe)
        widened = min(nlist, math.ceil(nprobe / math.sqrt(len(keys) / len(self._ids))))
        hits = self._search(row, k, selector, widened, exact_order=exact_order)
        if len(hits) < k and widened < nlist:
            hits = self._search(row, k, selector, nlist, exact_order=exact_order)
        return hits

    def _score_exactly(self, query: Vectors, k: int, keys: Ids) -> list[tuple[int, float]]:
        """Top ``k`` of some ids scored from their stored vectors (ties: lower id)."""
        keys, rows = self.rows(keys)
        scores = rows @ query
        best = np.lexsort((keys, -scores))[:k]
        return _hits(scores[best], keys[best])

    def to_bytes(self) -> bytes:
        """Serialise: the FAISS index (its IVF direct map included), then in
        approximate mode its rows (ids ascending, then their float32 values)."""
        index = faiss.serialize_index(self._index)
        parts: list[Any] = [_LENGTH.pack(len(index)), index]  # bytes and arrays
        if self._store is not None:
            parts.extend(self._store.held())
        return b"".join(memoryview(part).cast("B") for part in parts)

    @classmethod
    def from_bytes(
        cls, data: bytes | memoryview, dimension: int, *, threshold: int | None = None
    ) -> VectorIndex:
        """Deserialise :meth:`to_bytes`; the dimension must agree."""
        (size,) = _LENGTH.unpack_from(data, 0)
        index = faiss.deserialize_index(
            np.frombuffer(data, dtype=np.uint8, count=size, offset=_LENGTH.size)
        )
        if index.d != dimension:
            raise SnapshotError(f"index dimension {index.d} != expected {dimension}")
        rest = memoryview(data)[_LENGTH.size + size :]
        rows = None
        if isinstance(index, faiss.IndexIVF):
            if index.direct_map.type != _HASHTABLE:
                index.set_direct_map_type(_HASHTABLE)
            count = index.ntotal
            if len(rest) != count * (8 + 4 * dimension):
                raise SnapshotError("the approximate index's rows are missing or truncated")
            rows = RowStore(dimension)
            rows.put(
                np.frombuffer(rest, dtype=np.int64, count=count),
                np.frombuffer(rest, dtype=np.float32, offset=8 * count).reshape(count, dimension),
            )
        elif not isinstance(index, faiss.IndexIDMap2):
            raise SnapshotError(f"unexpected index type {type(index).__name__}")
        elif len(rest):
            raise SnapshotError("an exact index has no rows part")
        return cls(dimension, index, threshold=threshold, rows=rows)


class Snapshot(NamedTuple):
    """What a snapshot file holds: its manifest, named indexes and named byte parts."""

    manifest: dict[str, Any]
    indexes: dict[str, VectorIndex]
    blobs: dict[str, bytes]


def write_snapshot(
    path: Path,
    manifest: Mapping[str, Any],
    indexes: Mapping[str, VectorIndex],
    blobs: Mapping[str, bytes] | None = None,
) -> None:
    """Atomically write named indexes, named byte parts and a manifest to ``path``.

    Parts are serialised and written one at a time (at a million profiles an index
    with its rows is a gigabyte), then the header that lists them, then its length.
    The temporary file is unique to this writer, so writers in several processes
    or threads sharing a folder never interleave; the last rename wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(_MAGIC)
            listed = [
                _write_part(handle, name, "index", index.to_bytes())
                for name, index in indexes.items()
            ]
            listed += [
                _write_part(handle, name, "blob", data) for name, data in (blobs or {}).items()
            ]
            header = json.dumps({"manifest": dict(manifest), "parts": listed}).encode()
            handle.write(header)
            handle.write(_LENGTH.pack(len(header)))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _write_part(handle: BinaryIO, name: str, kind: str, data: bytes) -> dict[str, Any]:
    """Write one part; returns its entry in the header."""
    handle.write(data)
    return {
        "name": name,
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def read_snapshot(path: Path, dimension: int, *, threshold: int | None = None) -> Snapshot:
    """Read a snapshot written by :func:`write_snapshot`, verifying every part; parts
    are read one at a time, so loading holds one part's bytes at most."""
    try:
        with open(path, "rb") as handle:
            return _read_parts(path, handle, dimension, threshold)
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc


def _read_parts(path: Path, handle: BinaryIO, dimension: int, threshold: int | None) -> Snapshot:
    if handle.read(len(_MAGIC)) != _MAGIC:
        raise SnapshotError(f"{path} is not an index snapshot")
    try:
        end = handle.seek(0, os.SEEK_END)
        handle.seek(max(len(_MAGIC), end - _LENGTH.size))
        (header_length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
        header_start = end - _LENGTH.size - header_length
        if header_start < len(_MAGIC):
            raise SnapshotError(f"{path}: truncated snapshot")
        handle.seek(header_start)
        header = json.loads(handle.read(header_length))
        if sum(part["size"] for part in header["parts"]) != header_start - len(_MAGIC):
            raise SnapshotError(f"{path}: its parts do not fill the file")
        handle.seek(len(_MAGIC))
        indexes: dict[str, VectorIndex] = {}
        blobs: dict[str, bytes] = {}
        for part in header["parts"]:
            if part["kind"] == "blob":
                blobs[part["name"]] = _read_part(path, handle, part)
            else:
                indexes[part["name"]] = VectorIndex.from_bytes(
                    _read_part(path, handle, part), dimension, threshold=threshold
                )
    except (struct.error, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise SnapshotError(f"{path}: unreadable snapshot: {exc}") from exc
    return Snapshot(header["manifest"], indexes, blobs)


def _read_part(path: Path, handle: BinaryIO, part: Mapping[str, Any]) -> bytes:
    """The next part's bytes, checked against its size and checksum."""
    data = handle.read(part["size"])
    if len(data) != part["size"] or hashlib.sha256(data).hexdigest() != part["sha256"]:
        raise SnapshotError(f"{path}: part {part['name']!r} is truncated or corrupt")
    return data
