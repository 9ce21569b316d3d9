"""Lists of ids by key in flat arrays: what is set is what is gathered, through
replacements, clears and compaction."""

from __future__ import annotations

import random

import numpy as np
import pytest

from matching.ragged import RaggedIds


def _expected(lists: dict[int, list[int]], keys: list[int]) -> tuple[list[int], list[int]]:
    values = [value for key in keys for value in lists.get(key, [])]
    owners = [position for position, key in enumerate(keys) for _ in lists.get(key, [])]
    return values, owners


def test_gather_returns_each_keys_list_in_order_through_many_changes() -> None:
    """Random sets (growing, shrinking, emptying), clears and the compactions they
    cause: every gather answers as a dictionary of lists would."""
    store = RaggedIds()
    lists: dict[int, list[int]] = {}
    picker = random.Random(5)
    for step in range(40_000):
        key = picker.randrange(3_000)
        if picker.random() < 0.1:
            store.clear(key)
            lists.pop(key, None)
        else:
            lists[key] = [picker.randrange(10**6) for _ in range(picker.randint(0, 12))]
            store.set(key, lists[key])
        if step % 4_000 == 0 or step == 39_999:
            keys = [picker.randrange(3_500) for _ in range(300)]  # some never set
            values, owners, lengths = store.gather(np.array(keys, dtype=np.int64))
            assert (values.tolist(), owners.tolist()) == _expected(lists, keys)
            assert lengths.tolist() == [len(lists.get(key, [])) for key in keys]
    assert store._used < 2 * sum(map(len, lists.values())) + (1 << 16)  # compacted


def test_get_copies_one_list_and_unknown_keys_are_empty() -> None:
    store = RaggedIds()
    store.set(7, [3, 1, 2])
    found = store.get(7)
    found[0] = 99
    assert store.get(7).tolist() == [3, 1, 2]
    assert store.get(8).tolist() == []
    assert store.get(10**6).tolist() == []
    store.clear(10**6)  # ignored
    values, owners, lengths = store.gather(np.array([-1, 7], dtype=np.int64))
    assert (values.tolist(), owners.tolist(), lengths.tolist()) == ([3, 1, 2], [1, 1, 1], [0, 3])


def test_a_negative_key_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RaggedIds().set(-1, [1])
