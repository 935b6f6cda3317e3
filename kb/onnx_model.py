"""The embedding model run by ONNX Runtime: the same weights and pooling as sentence-transformers, without torch.

A query encode is the bulk of a search's time, and torch spends a good part of a one-query call on Python
overhead around the matrix work; ONNX Runtime runs the same graph in about half the time, and a process that
only answers queries never imports torch (hundreds of MB less resident memory).

The graph (transformer, mean pooling over the attention mask, L2 normalisation) is exported once from the
sentence-transformers folder with torch and cached as a file keyed by the weights' size and mtime; vectors match
the torch ones to a cosine of 0.99999 (tests/kb/test_onnx_model.py). The weights sit in a file of their own beside
the graph, which ONNX Runtime maps into memory instead of copying them out of the graph's protobuf: a session then
starts in about 0.1 s instead of 0.4 s, a third of a cold `kb ask`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from kb.model_folder import model_modules
from kb.errors import KBError

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def can_export(folder: Path) -> bool:
    """True for a sentence-transformers folder of transformer + mean pooling (+ normalize) only."""
    kinds, pooling = model_modules(folder)
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_lasttoken")
    )
    return bool(mean_only) and kinds[:1] == ["Transformer"] and set(kinds[1:]) <= {"Pooling", "Normalize"}


def cache_key(folder: Path) -> str:
    """Names the exported graph after the weights it came from (a changed model is exported again)."""
    parts = [str(folder.resolve()), "external-weights"]  # the layout of the export (weights beside the graph)
    for name in _WEIGHTS + ("config.json", "modules.json"):
        path = folder / name
        if path.is_file():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def export(folder: Path, target: Path) -> Path:
    """Write the model's ONNX graph (ids -> normalised mean-pooled vector) to `target` and its weights to
    `target` + ".data" beside it. The graph is moved into place last: a graph file is always a whole export."""
    import onnx
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    transformer = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201 - traced
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = model.tokenizer(["a sample sentence"], return_tensors="pt")
    args = tuple(sample.get(name, torch.zeros_like(sample["input_ids"])) for name in _INPUTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    weights = target.with_name(target.name + ".data")
    with tempfile.TemporaryDirectory(prefix=target.name, dir=target.parent) as work:
        traced = Path(work) / "traced.onnx"
        with torch.no_grad():
            torch.onnx.export(
                Pooled(),
                args,
                str(traced),
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in _INPUTS}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        # The graph names its weights file by this name, relative to its own folder.
        staged = Path(work) / target.name
        onnx.save_model(
            onnx.load(str(traced)), str(staged), save_as_external_data=True, all_tensors_to_one_file=True,
            location=weights.name, size_threshold=1024,
        )
        os.replace(Path(work) / weights.name, weights)
        os.replace(staged, target)
    return target


class OnnxEncoder:
    """Encodes texts with an exported graph and the model's own fast tokenizer (padding per batch)."""

    def __init__(self, graph: Path, tokenizer_file: Path, max_tokens: int, threads: int = 0, batch_size: int = 64):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle runtime threads sleep instead of spinning: on a small machine the spinning took the cores that
        # the server's other requests needed (/search server CPU per request 17 -> 12 ms under load).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._batch_size = batch_size
        self._lock = threading.Lock()  # the tokenizer is not safe to share across threads mid-call
        self.dimension = int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        # Texts of similar length share a batch, so little of each batch is padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        rows: list[np.ndarray] = []
        for start in range(0, len(order), self._batch_size):
            batch = [encodings[i] for i in order[start : start + self._batch_size]]
            width = max(len(e.ids) for e in batch)
            ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            types = np.zeros((len(batch), width), dtype=np.int64)
            for row, encoding in enumerate(batch):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
                types[row, : len(encoding.ids)] = encoding.type_ids
            (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            rows.append(vectors)
        stacked = np.vstack(rows)
        result = np.empty_like(stacked)
        result[order] = stacked
        return np.ascontiguousarray(result, dtype=np.float32)


def load_encoder(folder: Path, cache_dir: Path, max_tokens: int, threads: int = 0, batch_size: int = 64) -> OnnxEncoder:
    """The folder's model under ONNX Runtime, exporting the graph into `cache_dir` the first time."""
    if not can_export(folder) or not (folder / "tokenizer.json").is_file():
        raise KBError(f"{folder} is not a transformer + mean-pooling sentence-transformers folder.")
    graph = cache_dir / f"{folder.name}-{cache_key(folder)}.onnx"
    if not graph.is_file():
        log.info("exporting %s to ONNX at %s (once)", folder, graph)
        export(folder, graph)
    return OnnxEncoder(graph, folder / "tokenizer.json", max_tokens, threads, batch_size)
