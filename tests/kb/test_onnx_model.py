"""The model under ONNX Runtime gives the torch model's vectors, exported once and cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb.config import Settings
from kb.embedder import SentenceTransformerEmbedder
from kb.model_folder import packaged_model_path
from kb.onnx_model import cache_key, can_export, load_encoder

TEXTS = [
    "How long does SQS keep messages?",
    "SQS > Retention: max 14 days",
    "",
    "日本語のメモ 🚀 with emoji and\u200bzero width",
    "word " * 600,  # past the model's 256 word pieces: cut the same way as sentence-transformers
]


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def encoder(graph_dir):
    return load_encoder(Path(packaged_model_path()), graph_dir, max_tokens=256)


def test_vectors_match_the_torch_model(encoder):
    torch_vectors = SentenceTransformerEmbedder(runtime="torch").encode(TEXTS)
    onnx_vectors = encoder.encode(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert float((onnx_vectors * torch_vectors).sum(axis=1).min()) > 0.9999


def test_order_and_batches_do_not_change_a_vector(encoder):
    one_by_one = np.vstack([encoder.encode([t]) for t in TEXTS])
    together = encoder.encode(list(reversed(TEXTS)))[::-1]
    assert float((one_by_one * together).sum(axis=1).min()) > 0.99999
    assert encoder.encode([]).shape[0] == 0


def test_the_graph_is_exported_once_and_atomically(encoder, graph_dir):
    graphs = list(graph_dir.glob("*.onnx"))
    assert len(graphs) == 1
    # The weights beside the graph, nothing else left of the export.
    assert sorted(p.name for p in graph_dir.iterdir()) == [graphs[0].name, graphs[0].name + ".data"]
    assert graphs[0].stat().st_size < 1_000_000 < graphs[0].with_name(graphs[0].name + ".data").stat().st_size
    before = graphs[0].stat().st_mtime_ns
    load_encoder(Path(packaged_model_path()), graph_dir, max_tokens=256)
    assert graphs[0].stat().st_mtime_ns == before


def _fake_model(folder: Path, modules: list[dict], pooling: dict) -> Path:
    folder.mkdir()
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (folder / "model.safetensors").write_bytes(b"weights")
    return folder


def test_only_mean_pooled_transformers_are_exported(tmp_path):
    transformer = {"path": "", "type": "sentence_transformers.models.Transformer"}
    pooling = {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}
    dense = {"path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    assert can_export(Path(packaged_model_path()))
    assert can_export(_fake_model(tmp_path / "mean", [transformer, pooling], {"pooling_mode_mean_tokens": True}))
    assert not can_export(_fake_model(tmp_path / "cls", [transformer, pooling], {"pooling_mode_cls_token": True}))
    assert not can_export(
        _fake_model(tmp_path / "dense", [transformer, pooling, dense], {"pooling_mode_mean_tokens": True})
    )
    assert not can_export(tmp_path / "missing")


def test_new_weights_get_a_new_graph(tmp_path):
    folder = _fake_model(tmp_path / "m", [], {})
    first = cache_key(folder)
    (folder / "model.safetensors").write_bytes(b"other weights, longer")
    assert cache_key(folder) != first


def test_the_embedder_uses_onnx_by_default_and_torch_on_request(tmp_path):
    settings = Settings(model_cache_dir=tmp_path)
    assert SentenceTransformerEmbedder(cache_dir=settings.model_cache_dir).runtime == "onnx"
    assert SentenceTransformerEmbedder(runtime="torch").runtime == "torch"
