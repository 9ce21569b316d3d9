"""Lists of small integers by key, in flat NumPy arrays.

Each key's list is a slice of one ``int32`` array, so gathering the lists of
hundreds of keys is a few vector operations rather than a Python loop over
objects spread across memory. A list that grows is written anew at the end of
the array; the space it leaves is reclaimed by compacting once it is half the
array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["RaggedIds"]

Ids = npt.NDArray[np.int64]
Values = npt.NDArray[np.int32]

_INITIAL = 1024
_MIN_COMPACTED = 1 << 16  # below this much unused space, compacting is not worth it


class RaggedIds:
    """A list of ``int32`` values for each non-negative integer key (empty when unset)."""

    def __init__(self) -> None:
        self._values = np.zeros(_INITIAL, dtype=np.int32)
        self._used = 0  # values[:used] hold lists, live or abandoned
        self._unused = 0  # how many of those belong to no key any more
        self._start = np.zeros(_INITIAL, dtype=np.int64)
        self._length = np.zeros(_INITIAL, dtype=np.int32)

    def __len__(self) -> int:
        """One more than the highest key that was ever set."""
        return len(self._length)

    def set(self, key: int, values: Sequence[int]) -> None:
        """Replace the list of ``key``."""
        if key < 0:
            raise ValueError(f"key {key} is negative")
        self._grow_keys(key + 1)
        size, old = len(values), int(self._length[key])
        if size > old:  # does not fit where the old list was: written at the end
            self._unused += old
            self._grow_values(self._used + size)
            self._start[key] = self._used
            self._used += size
        else:
            self._unused += old - size
        start = int(self._start[key])
        self._values[start : start + size] = values
        self._length[key] = size
        if self._unused > max(_MIN_COMPACTED, self._used // 2):
            self._compact()

    def clear(self, key: int) -> None:
        """Empty the list of ``key`` (unknown keys are ignored)."""
        if 0 <= key < len(self._length):
            self._unused += int(self._length[key])
            self._length[key] = 0

    def get(self, key: int) -> Values:
        """The list of one key (a copy)."""
        if not 0 <= key < len(self._length):
            return np.zeros(0, dtype=np.int32)
        start = int(self._start[key])
        return self._values[start : start + int(self._length[key])].copy()

    def gather(self, keys: Ids) -> tuple[Values, Ids, Values]:
        """The lists of ``keys`` end to end: the values, the position in ``keys`` each
        value belongs to, and each key's list length (0 for a key never set)."""
        inside = (keys >= 0) & (keys < len(self._length))
        keys = np.where(inside, keys, 0)  # any valid key; its length is masked off
        lengths = np.where(inside, self._length[keys], 0)
        owners = np.repeat(np.arange(len(keys)), lengths)
        # a value's place: its list's start plus its rank within the list
        ends = np.cumsum(lengths)
        places = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            self._start[keys] - (ends - lengths), lengths
        )
        return self._values[places], owners, lengths.astype(np.int32)

    def _compact(self) -> None:
        """Rewrite the live lists end to end, dropping abandoned ones."""
        keys = np.flatnonzero(self._length)
        values, _, lengths = self.gather(keys)
        self._values = np.zeros(max(_INITIAL, 2 * len(values)), dtype=np.int32)
        self._values[: len(values)] = values
        self._start[keys] = np.cumsum(lengths) - lengths
        self._used, self._unused = len(values), 0

    def _grow_keys(self, size: int) -> None:
        if size <= len(self._length):
            return
        new = max(size, 2 * len(self._length))
        self._start = np.concatenate([self._start, np.zeros(new - len(self._start), np.int64)])
        self._length = np.concatenate([self._length, np.zeros(new - len(self._length), np.int32)])

    def _grow_values(self, size: int) -> None:
        if size <= len(self._values):
            return
        grown = np.zeros(max(size, 2 * len(self._values)), dtype=np.int32)
        grown[: self._used] = self._values[: self._used]
        self._values = grown
