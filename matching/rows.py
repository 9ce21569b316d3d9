"""Vectors by id in one NumPy matrix, gathered many at a time.

An approximate FAISS index holds 8-bit codes: enough to find candidates, not to
score them exactly, and it reads vectors back one id at a time (a hash lookup and
a decode each, about 2 µs). This store keeps each vector's exact float32 values in
one matrix, so re-scoring hundreds of candidates is one gather and one product.
Ids are database ids (small, dense, non-negative): a position array indexed by id
maps them to rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]
Vectors = npt.NDArray[np.float32]

_GROWTH = 1.25  # spare rows and positions added when the store must grow
_ABSENT = -1


class RowStore:
    """Vectors by non-negative integer id, held as float32 rows."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._position: npt.NDArray[np.int64] = np.full(0, _ABSENT, dtype=np.int64)
        self._rows: Vectors = np.empty((0, dimension), dtype=np.float32)
        self._used = 0  # rows in use or freed: the next new row goes here
        self._free: list[int] = []  # freed rows, reused first

    def __len__(self) -> int:
        return self._used - len(self._free)

    @property
    def nbytes(self) -> int:
        """Bytes held by the rows and the position array."""
        return int(self._rows.nbytes + self._position.nbytes)

    def put(self, ids: Ids, vectors: Vectors) -> None:
        """Store ``vectors`` under ``ids`` (distinct, non-negative), replacing any
        held under the same ids."""
        if len(ids) == 0:
            return
        if int(ids.min()) < 0:
            raise ValueError("ids must be non-negative")
        self._reserve_ids(int(ids.max()) + 1)
        positions = self._position[ids]
        new = positions == _ABSENT
        positions[new] = self._take(int(new.sum()))
        self._position[ids] = positions
        self._rows[positions] = vectors

    def drop(self, ids: Ids) -> None:
        """Forget ``ids``; unknown ids are ignored."""
        ids = ids[(ids >= 0) & (ids < len(self._position))]
        positions = self._position[ids]
        held = positions != _ABSENT
        self._free.extend(positions[held].tolist())
        self._position[ids[held]] = _ABSENT

    def gather(self, ids: Ids) -> tuple[Ids, Vectors]:
        """The ids held, in the order given, and their vectors (a copy)."""
        inside = ids[(ids >= 0) & (ids < len(self._position))]
        positions = self._position[inside]
        held = positions != _ABSENT
        return inside[held], self._rows[positions[held]]

    def held(self) -> tuple[Ids, Vectors]:
        """Every id held, ascending, and its vector (for a snapshot)."""
        ids = np.flatnonzero(self._position != _ABSENT).astype(np.int64)
        return ids, self._rows[self._position[ids]]

    def _reserve_ids(self, size: int) -> None:
        if size > len(self._position):
            grown = np.full(max(size, int(len(self._position) * _GROWTH)), _ABSENT, np.int64)
            grown[: len(self._position)] = self._position
            self._position = grown

    def _take(self, count: int) -> npt.NDArray[np.int64]:
        """``count`` free rows: freed ones first, then new ones (growing the matrix)."""
        reused = [self._free.pop() for _ in range(min(count, len(self._free)))]
        fresh = count - len(reused)
        if self._used + fresh > len(self._rows):
            capacity = max(self._used + fresh, int(len(self._rows) * _GROWTH))
            grown = np.empty((capacity, self.dimension), dtype=np.float32)
            grown[: self._used] = self._rows[: self._used]
            self._rows = grown
        taken = np.concatenate(
            [np.asarray(reused, dtype=np.int64), np.arange(self._used, self._used + fresh)]
        )
        self._used += fresh
        return taken
