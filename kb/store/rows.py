"""A store's vectors read by row on demand: what a backend that keeps its vectors outside the process (Milvus) gives
retrieval in place of an in-memory matrix.

The answer and compare layers read a few vectors of a build at a time (the lines of the ranked chunks, the lines of
the compared services), by `rows[i]`, `rows[array of rows]` and `len(rows)`; a `FetchedRows` answers those as a
numpy matrix would, fetching what it has not got from the store and keeping at most `cache_blocks` blocks of rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Union

import numpy as np

# Rows are fetched a block at a time: the lines of one chunk, and the chunks of one note, are neighbouring rows, and a
# compare reads a service's lines one by one, so one round trip brings the rows the next reads will ask for.
BLOCK_ROWS = 64
# 256 blocks of 64 rows of 384 float32 numbers: at most 25 MB a store, however large the build.
CACHE_BLOCKS = 256


class FetchedRows:
    """Rows of a vector store fetched on demand and kept in a bounded LRU cache; indexed like a (len x dimension)
    float32 matrix. `fetch(rows)` returns the vectors of those rows, in that order."""

    def __init__(
        self,
        fetch: Callable[[np.ndarray], np.ndarray],
        size: int,
        dimension: int,
        block_rows: int | None = None,
        cache_blocks: int | None = None,
    ) -> None:
        self._fetch = fetch
        self.size = size
        self.dimension = dimension
        self.block_rows = block_rows or BLOCK_ROWS
        self.cache_blocks = cache_blocks or CACHE_BLOCKS
        self._blocks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.fetched = 0  # rows read from the store so far: what a test or a bench tells the cache's work by

    def __len__(self) -> int:
        return self.size

    @property
    def shape(self) -> tuple[int, int]:
        return (self.size, self.dimension)

    @property
    def cached_rows(self) -> int:
        """How many rows the cache holds now (at most block_rows x cache_blocks)."""
        with self._lock:
            return sum(len(block) for block in self._blocks.values())

    def __getitem__(self, key: Union[int, np.integer, slice, np.ndarray, list]) -> np.ndarray:
        """The vector of one row (`rows[i]`: 1-D) or of several (`rows[array]`, `rows[a:b]`: one row each)."""
        if isinstance(key, (int, np.integer)):
            return self.take(np.asarray([int(key)]))[0]
        if isinstance(key, slice):
            return self.take(np.arange(*key.indices(self.size)))
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return self.take(rows.reshape(-1)).reshape(*rows.shape, self.dimension)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of `rows` (int array; negative counts from the end, as numpy's), in that order."""
        if rows.size and rows.dtype.kind not in "iu":
            raise TypeError(f"rows must be integers, not {rows.dtype}")
        rows = rows.astype(np.int64)
        rows = np.where(rows < 0, rows + self.size, rows)
        if rows.size and (rows.min() < 0 or rows.max() >= self.size):
            raise IndexError(f"row out of range for a store of {self.size} vectors")
        wanted = np.unique(rows // self.block_rows).tolist()
        blocks = self._cached(wanted)
        missing = [b for b in wanted if b not in blocks]
        if missing:
            blocks.update(self._read(missing))
        out = np.empty((len(rows), self.dimension), dtype=np.float32)
        for number, block in blocks.items():
            here = rows // self.block_rows == number
            out[here] = block[rows[here] - number * self.block_rows]
        return out

    def _cached(self, numbers: list[int]) -> dict[int, np.ndarray]:
        with self._lock:
            found = {}
            for number in numbers:
                block = self._blocks.get(number)
                if block is not None:
                    self._blocks.move_to_end(number)
                    found[number] = block
            return found

    def _read(self, numbers: list[int]) -> dict[int, np.ndarray]:
        # Fetched outside the lock, so concurrent requests wait for the store together, not one after another.
        spans = [np.arange(n * self.block_rows, min((n + 1) * self.block_rows, self.size)) for n in numbers]
        vectors = np.asarray(self._fetch(np.concatenate(spans)), dtype=np.float32)
        blocks, start = {}, 0
        for number, span in zip(numbers, spans):
            blocks[number] = vectors[start : start + len(span)].copy()  # a view would keep the whole fetch alive
            start += len(span)
        with self._lock:
            self.fetched += start
            for number, block in blocks.items():
                self._blocks[number] = block
                self._blocks.move_to_end(number)
            while len(self._blocks) > self.cache_blocks:
                self._blocks.popitem(last=False)
        return blocks


# What LoadedBuild holds for a store's vectors: the matrix itself (in memory) or rows fetched on demand.
VectorRows = Union[np.ndarray, FetchedRows]
