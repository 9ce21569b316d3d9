"""Per-profile columns for scoring many candidates at once.

The catalog re-scores hundreds of candidates per match. Reading each one's
region, organisation and concepts from its :class:`~matching.catalog.Entry` costs
a Python loop per candidate; these NumPy columns, indexed by profile id, give
the same values for a whole candidate array in a few vector operations.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["Columns"]

Ids = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_NONE = -1  # code of a missing region
_INITIAL = 1024


class Columns:
    """Region, country, organisation and concept bits by profile id."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}  # region/country code -> small int
        self._concepts: dict[str, int] = {}  # concept -> bit number
        self.present = np.zeros(_INITIAL, dtype=bool)
        self.region = np.full(_INITIAL, _NONE, dtype=np.int32)
        self.country = np.full(_INITIAL, _NONE, dtype=np.int32)
        self.organization = np.zeros(_INITIAL, dtype=np.int64)
        self.concept_bits = np.zeros((_INITIAL, 1), dtype=np.uint64)

    def set(
        self,
        profile_id: int,
        *,
        organization_id: int,
        region: str | None,
        country: str,
        concepts: Iterable[str],
    ) -> None:
        """Record one profile's values (replacing earlier ones)."""
        if profile_id < 0:
            raise ValueError(f"profile id {profile_id} is negative")
        self._grow_rows(profile_id + 1)
        self.present[profile_id] = True
        self.region[profile_id] = _NONE if region is None else self._code(region)
        self.country[profile_id] = self._code(country)
        self.organization[profile_id] = organization_id
        self.concept_bits[profile_id] = self.concept_mask(concepts, add=True)

    def clear(self, profile_id: int) -> None:
        """Forget one profile (unknown ids are ignored)."""
        if 0 <= profile_id < len(self.present):
            self.present[profile_id] = False
            self.concept_bits[profile_id] = 0

    def known(self, ids: Ids) -> Ids:
        """The ids among ``ids`` that have values."""
        inside = ids[(ids >= 0) & (ids < len(self.present))]
        return inside[self.present[inside]]

    def code(self, value: str | None) -> int:
        """The code of a region or country: -1 for None, -2 for one no profile has."""
        return _NONE if value is None else self._codes.get(value, -2)

    def proximity(self, ids: Ids, region: str | None, country: str | None) -> Floats:
        """:func:`matching.scoring.proximity` for each id (NaN where it is None)."""
        same_region = self.region[ids] == self.code(region) if region else np.zeros(len(ids), bool)
        if country is None:
            return np.where(same_region, 1.0, np.nan)
        same_country = self.country[ids] == self.code(country)
        return np.where(same_region, 1.0, np.where(same_country, 0.5, 0.0))

    def concept_share(self, ids: Ids, concepts: frozenset[str]) -> Floats:
        """Share of ``concepts`` each id mentions too (NaN for no concepts), as
        :func:`matching.scoring.shared_concepts` computes it."""
        if not concepts:
            return np.full(len(ids), np.nan)
        mask = self.concept_mask(concepts)
        shared = np.bitwise_count(self.concept_bits[ids] & mask).sum(axis=1)
        share: Floats = shared.astype(np.float64) / len(concepts)
        return share

    def concept_mask(self, concepts: Iterable[str], *, add: bool = False) -> npt.NDArray[np.uint64]:
        """The bit row of some concepts; ``add`` gives unseen concepts a bit, else they
        get none (no profile has them)."""
        if add:
            for concept in concepts:
                if concept not in self._concepts:
                    self._concepts[concept] = len(self._concepts)
            self._grow_words(len(self._concepts))
        mask = np.zeros(self.concept_bits.shape[1], dtype=np.uint64)
        for concept in concepts:
            bit = self._concepts.get(concept)
            if bit is not None:
                mask[bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
        return mask

    def _code(self, value: str) -> int:
        return self._codes.setdefault(value, len(self._codes))

    def _grow_rows(self, size: int) -> None:
        if size <= len(self.present):
            return
        new = max(size, 2 * len(self.present))
        for name in ("present", "region", "country", "organization"):
            old = getattr(self, name)
            grown = np.full(new, _NONE if name in ("region", "country") else 0, dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)
        bits = np.zeros((new, self.concept_bits.shape[1]), dtype=np.uint64)
        bits[: len(self.concept_bits)] = self.concept_bits
        self.concept_bits = bits

    def _grow_words(self, concept_count: int) -> None:
        words = -(-concept_count // 64)
        if words > self.concept_bits.shape[1]:
            bits = np.zeros((len(self.concept_bits), words), dtype=np.uint64)
            bits[:, : self.concept_bits.shape[1]] = self.concept_bits
            self.concept_bits = bits
