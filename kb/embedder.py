"""Sentence embeddings: the real model loaded offline by path, behind a small protocol."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.config import Settings
from kb.errors import KBError
from kb.model_folder import pooled_dimension, read_json, resolve_model

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dimension: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalised row per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many word pieces the model would read for this text (special tokens included)."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded offline; the weights load on the first encode.

    By default the model runs under ONNX Runtime (kb/onnx_model.py: the same vectors, a query encode in about
    half the time, no torch in a serving process); `runtime="torch"`, or a model ONNX cannot take, runs it
    with sentence-transformers. Counting word pieces needs only the tokenizer, so a rebuild with nothing to
    embed never loads the model at all.
    """

    def __init__(
        self,
        model: str = "",
        batch_size: int = 64,
        torch_threads: int = 0,
        runtime: str = "onnx",
        cache_dir: Path | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        self.name, self._location = resolve_model(model)
        self._batch_size = batch_size
        self._torch_threads = torch_threads
        self._model = None
        self._onnx = None
        self._cache_dir = cache_dir or Path(tempfile.gettempdir()) / "notes-kb-models"
        self.runtime = runtime if runtime == "onnx" and _onnx_possible(Path(self._location)) else "torch"
        # The tokenizer is not safe to share across threads mid-call; the API serves from a thread pool.
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()  # a warm-up thread and a first query must not make two sessions
        self._tokenizer = None  # for counting tokens (ingest only), read on first use: 0.04 s of a cold `kb ask`
        folder = Path(self._location)
        tokenizer_file = folder / "tokenizer.json"
        self._tokenizer_file = tokenizer_file if tokenizer_file.is_file() and (folder / "modules.json").is_file() else None
        if self._tokenizer_file is not None:
            self.max_tokens = read_json(folder / "sentence_bert_config.json").get("max_seq_length", 256)
            dimension = pooled_dimension(folder)
            if dimension is None:
                self._load()
            else:
                self.dimension = dimension
        else:
            self._load()

    def _load_onnx(self):
        with self._load_lock:
            return self._load_onnx_once()

    def _load_onnx_once(self):
        if self._onnx is None:
            from kb.onnx_model import load_encoder

            try:
                self._onnx = load_encoder(
                    Path(self._location), self._cache_dir, self.max_tokens, self._torch_threads, self._batch_size
                )
            except Exception as exc:  # an export that fails leaves the torch runtime, which always works
                log.warning("ONNX Runtime unavailable for %s (%s); using torch", self._location, exc)
                self.runtime = "torch"
                return None
        return self._onnx

    def _load(self):
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            # kb/__init__ sets OMP_NUM_THREADS=1 for the small query-time algebra; the model wants every core.
            torch.set_num_threads(self._torch_threads or os.cpu_count() or 1)
            try:
                model = SentenceTransformer(self._location, device="cpu")
            except Exception as exc:
                raise KBError(f"Cannot load the embedding model {self._location!r}: {exc}") from exc
            model.eval()
            self.dimension = int(getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)())
            self.max_tokens = int(model.max_seq_length)
            self._model = model
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.runtime == "onnx" and self._load_onnx() is not None:
            return self._onnx.encode(texts)
        with self._lock:
            vectors = self._load().encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None and self._tokenizer_file is not None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._tokenizer_file))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text).ids)
        return len(self._load().tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _onnx_possible(folder: Path) -> bool:
    """The folder is a model ONNX Runtime can take and the runtime is installed."""
    import importlib.util

    from kb.onnx_model import can_export

    return folder.is_dir() and can_export(folder) and importlib.util.find_spec("onnxruntime") is not None


_cache: dict[tuple[str, int, str, str], SentenceTransformerEmbedder] = {}
_cache_lock = threading.Lock()


def get_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The process-wide embedder for these settings (the model is loaded once)."""
    key = (settings.model, settings.torch_threads, settings.embed_runtime, str(settings.model_cache_dir))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = SentenceTransformerEmbedder(
                settings.model,
                settings.embed_batch_size,
                settings.torch_threads,
                settings.embed_runtime,
                settings.model_cache_dir,
            )
        return _cache[key]


def warm(embedder: Embedder) -> None:
    """Load the model now with one encode (a background thread's work: a model that fails here fails again, with its
    message, on the first real encode)."""
    try:
        embedder.encode(["warm up"])
    except Exception:  # noqa: BLE001
        pass
