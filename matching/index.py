"""Vector index on FAISS keyed by database ids, and its snapshot file.

Vectors are unit-length float32, so inner product is cosine similarity. Each
index is an exact ``IndexIDMap2(IndexFlatIP)``; ids are profile ids.

A snapshot holds several named indexes and a manifest in one file, written to
a temporary file, fsynced and renamed, so a crash leaves either the old or the
new snapshot, never half of one. Reading checks a checksum per part.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

__all__ = ["SnapshotError", "VectorIndex", "read_snapshot", "write_snapshot"]

Vectors = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

_MAGIC = b"PMIDX1\n"
_LENGTH = struct.Struct("<Q")


class SnapshotError(Exception):
    """A snapshot file is missing, truncated, corrupt or built for another model."""


def _as_ids(ids: Iterable[int]) -> Ids:
    return np.fromiter(ids, dtype=np.int64)


class VectorIndex:
    """Exact inner-product search over vectors keyed by integer ids."""

    def __init__(self, dimension: int, faiss_index: Any | None = None) -> None:
        self.dimension = dimension
        self._index = faiss_index or faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._ids: set[int] = set(faiss.vector_to_array(self._index.id_map).tolist())

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def ids(self) -> set[int]:
        """A copy of the ids held."""
        return set(self._ids)

    def upsert(self, ids: Iterable[int], vectors: Vectors) -> None:
        """Add vectors, replacing any already stored under the same ids."""
        keys = _as_ids(ids)
        if len(keys) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if len(keys) == 0:
            return
        self.remove(keys.tolist())
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
        self._ids.update(keys.tolist())

    def remove(self, ids: Iterable[int]) -> None:
        """Remove ids; unknown ids are ignored."""
        present = [key for key in ids if key in self._ids]
        if present:
            self._index.remove_ids(_as_ids(present))  # type: ignore[arg-type]  # stub lacks numpy form
            self._ids.difference_update(present)

    def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """The stored vectors of those ids that are present."""
        present = [key for key in ids if key in self._ids]
        if not present:
            return {}
        rows = self._index.reconstruct_batch(_as_ids(present))
        return dict(zip(present, rows, strict=True))

    def search(
        self, query: Vectors, k: int, allowed: Iterable[int] | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` (id, similarity) for one query vector, best first.

        ``allowed`` restricts the search to those ids (exactly, not by
        post-filtering), so a narrow filter still fills ``k`` results.
        """
        if not self._ids or k <= 0:
            return []
        params = None
        if allowed is not None:
            allowed_ids = _as_ids(key for key in allowed if key in self._ids)
            if len(allowed_ids) == 0:
                return []
            selector = faiss.IDSelectorBatch(allowed_ids)
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        row = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, keys = self._index.search(row, min(k, len(self._ids)), params=params)
        return [
            (int(key), float(score))
            for key, score in zip(keys[0], scores[0], strict=True)
            if key != -1
        ]

    def to_bytes(self) -> bytes:
        """Serialise with FAISS."""
        return bytes(faiss.serialize_index(self._index))

    @classmethod
    def from_bytes(cls, data: bytes, dimension: int) -> VectorIndex:
        """Deserialise; the dimension must agree."""
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if index.d != dimension:
            raise SnapshotError(f"index dimension {index.d} != expected {dimension}")
        return cls(dimension, index)


def write_snapshot(
    path: Path, manifest: Mapping[str, Any], indexes: Mapping[str, VectorIndex]
) -> None:
    """Atomically write named indexes and a manifest to ``path``."""
    parts = {name: index.to_bytes() for name, index in indexes.items()}
    header = json.dumps(
        {
            "manifest": dict(manifest),
            "parts": [
                {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for name, data in parts.items()
            ],
        }
    ).encode()
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as handle:
        handle.write(_MAGIC)
        handle.write(_LENGTH.pack(len(header)))
        handle.write(header)
        for data in parts.values():
            handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_snapshot(path: Path, dimension: int) -> tuple[dict[str, Any], dict[str, VectorIndex]]:
    """Read a snapshot written by :func:`write_snapshot`, verifying every part."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    if not data.startswith(_MAGIC):
        raise SnapshotError(f"{path} is not an index snapshot")
    offset = len(_MAGIC)
    try:
        (header_length,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        header = json.loads(data[offset : offset + header_length])
        offset += header_length
        indexes: dict[str, VectorIndex] = {}
        for part in header["parts"]:
            chunk = data[offset : offset + part["size"]]
            offset += part["size"]
            if len(chunk) != part["size"] or hashlib.sha256(chunk).hexdigest() != part["sha256"]:
                raise SnapshotError(f"{path}: part {part['name']!r} is truncated or corrupt")
            indexes[part["name"]] = VectorIndex.from_bytes(chunk, dimension)
    except (struct.error, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise SnapshotError(f"{path}: unreadable snapshot: {exc}") from exc
    return header["manifest"], indexes
