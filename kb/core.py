"""KnowledgeBase: the one facade that the CLI, the API and the tests call."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from kb.catalogue import Service, get_catalogue
from kb.config import Settings, get_settings
from kb.embedder import Embedder, get_embedder, warm
from kb.errors import BadQuery, IndexCorrupt, NotFound
from kb.index import LoadedBuild, LoadedIndex, Manifest, hits_of, load_index
from kb.models import Answer, Chunk, ComparisonTable, FileSummary, IndexHealth, PassageContext, SearchResult, ServiceInfo
from kb.query import clean_query
from kb.query_batcher import QueryBatcher
from kb.retrieval import MODES, Mode, Retriever, ServiceDescriptions, Weights
from kb.store import backend
from kb.store.replica import serving_build


def _service_info(entry: Service, chunk_count: int) -> ServiceInfo:
    """A catalogue entry as /services lists it, with how many chunks of the loaded build it tags."""
    return ServiceInfo(
        id=entry.id, name=entry.name, full_name=entry.full_name, aliases=entry.aliases, category=entry.category,
        chunk_count=chunk_count,
    )


def _ready_answers(build: LoadedBuild) -> None:
    from kb.evidence.index import read_ahead
    from kb.lexical import tokenize

    import kb.answering  # noqa: F401

    # A first tokenize loads the stemmer and the progress bars' process lock (0.04 s).
    tokenize(["warm up"])
    read_ahead(build)


class KnowledgeBase:
    """A loaded index and model: search, ask, compare, services, passages."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or get_settings()
        self.index_dir = Path(self.settings.index_dir)
        self._embedder = embedder
        self._reload_lock = threading.Lock()
        # The stores the settings name, made once: the watch thread asks them for the serving build every check.
        self._stores = backend(self.settings)
        # The catalogue's descriptions embedded once per process, not per build: they do not come from the notes.
        self._descriptions = ServiceDescriptions(lambda texts: self._cached_vectors("services", texts))
        self._query_batcher: QueryBatcher | None = None
        # The model's first encode (its ONNX session: half a second) runs beside the index load, not after it: a
        # `kb ask` from the shell pays only the longer of the two.
        model = threading.Thread(target=warm, args=(self.embedder,), daemon=True)
        model.start()
        self._adopt(self._load())
        # Every query looks for service names in itself: the catalogue's names are read while the model loads.
        get_catalogue().find_in_heading("")
        model.join()

    # -- loading -----------------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    def _load(self) -> LoadedIndex:
        index = load_index(self.index_dir, self._stores)
        model = index.manifest.model
        if not index.manifest.built_with(self.embedder):
            raise IndexCorrupt(
                f"The index at {self.index_dir} was built with model {model.name!r} "
                f"(dimension {model.dimension}), but the configured model is {self.embedder.name!r} "
                f"(dimension {self.embedder.dimension}). Rebuild it with `kb ingest`."
            )
        return index

    def _adopt(self, index: LoadedIndex) -> None:
        """Serve this build from now on. Its answer layer (the imports and the build's saved evidence cut) is made
        ready in the background: a search never waits for it, and a first answer finds it done."""
        self._build = LoadedBuild.of(index)
        threading.Thread(target=_ready_answers, args=(self._build,), daemon=True).start()

    def encode_query(self, text: str) -> np.ndarray:
        """The query's vector, (1, dimension); concurrent queries share model batches."""
        if self._query_batcher is None:
            self._query_batcher = QueryBatcher(self.embedder.encode)
        return self._query_batcher.encode_one(text)

    def warm_up(self) -> None:
        """Load the model weights, the catalogue's vectors and the comparison segments now, not on a first request."""
        from kb.compare import warm_up as warm_up_compare

        self.search("warm up", k=1)
        warm_up_compare(self._build, self.embedder)

    @property
    def build(self) -> LoadedBuild:
        """The loaded build; a rebuild swaps it as a whole, so keep one reference for the whole of a request."""
        return self._build

    @property
    def manifest(self) -> Manifest:
        return self._build.index.manifest

    def reload_if_changed(self) -> bool:
        """Load a newer build when the manifest on disk names one (e.g. after `kb ingest` elsewhere), or, on a backend
        that shares its builds (Milvus), when the backend records another serving build (one written from another
        index folder: the build is fetched into this one first)."""
        try:
            serving = serving_build(self.index_dir, self._stores)
        except Exception:
            return False  # a broken or missing manifest never replaces a good index in memory
        if serving == self._build.index.build_id:
            return False
        with self._reload_lock:
            if serving_build(self.index_dir, self._stores) == self._build.index.build_id:
                return False
            self._adopt(self._load())
            return True

    # -- search ------------------------------------------------------------------------------------------
    def _check_k(self, k: int) -> int:
        if not isinstance(k, int) or k < 1 or k > self.settings.max_k:
            raise BadQuery(f"k must be between 1 and {self.settings.max_k}, got {k!r}.")
        return k

    def service_filter(self, service: str | None) -> set[str] | None:
        """The ids a `service=` parameter admits (the service and its variants), or None for no filter."""
        if not service:
            return None
        catalogue = get_catalogue()
        return set(catalogue.family(catalogue.resolve(service).id))

    def retriever(self, build: LoadedBuild | None = None) -> Retriever:
        """The ranking pipeline over a build (the loaded one by default), with the settings' weights."""
        return Retriever(build or self._build, self.encode_query, get_catalogue(), Weights.of(self.settings), self._descriptions)

    def _cached_vectors(self, kind: str, texts: list[str]) -> np.ndarray:
        """The texts' vectors, kept on disk beside the model's export: a `kb ask` from the shell would otherwise embed
        the catalogue's 250 descriptions (3 s on a CPU) before answering."""
        key = hashlib.sha256("\n".join([self.embedder.name, *texts]).encode()).hexdigest()[:16]
        path = Path(self.settings.model_cache_dir) / f"{kind}-{key}.npy"
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                return vectors
        except (OSError, ValueError):
            pass
        vectors = np.asarray(self.embedder.encode(texts), dtype=np.float32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            with partial.open("wb") as handle:
                np.save(handle, vectors)
            os.replace(partial, path)
        except OSError:
            pass  # a read-only cache folder only costs the next process the same encode
        return vectors

    def search(self, query: str, k: int | None = None, service: str | None = None, mode: Mode = "hybrid") -> SearchResult:
        """The k passages that best answer the query, diverse, each cited to its exact lines."""
        query = clean_query(query, self.settings.max_query_chars)
        k = self._check_k(self.settings.default_k if k is None else k)
        if mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
        allowed = self.service_filter(service)
        build = self._build
        ranking = self.retriever(build).rank(query, k, mode=mode, allowed=allowed)
        return SearchResult(query=query, results=hits_of(ranking.ranked, build))

    # -- answers ------------------------------------------------------------------------------------------
    def ask(self, question: str, k: int | None = None, service: str | None = None) -> Answer:
        """An extractive answer: 1-4 sentences from the best passages, each cited to its exact line; or an abstention.
        With a language model configured (KB_LLM_URL) the answer is then rewritten by it."""
        return self.rewrite_with_llm(self.extract_answer(question, k, service))

    def extract_answer(self, question: str, k: int | None = None, service: str | None = None) -> Answer:
        """The model work of `ask`: the question ranked over the loaded build, and the sentences that answer it."""
        question = clean_query(question, self.settings.max_query_chars)
        k = self._check_k(self.settings.default_ask_k if k is None else k)
        allowed = self.service_filter(service)
        build = self._build
        query_vector = self.encode_query(question)
        ranking = self.retriever(build).rank(question, k, allowed=allowed, vector=query_vector)
        from kb.answering import extract_answer  # not imported by a process that only searches

        return extract_answer(build, ranking, question, query_vector, get_catalogue(), self.compare, self.settings.abstain_below)

    def rewrite_with_llm(self, answer: Answer) -> Answer:
        """The answer rewritten from its passages by the language model at KB_LLM_URL, every sentence checked and
        cited; the answer itself when no model is set, it abstained, or the model fails."""
        if not self.settings.llm_url or answer.abstained:
            return answer
        from kb.generation import generate_answer

        return generate_answer(answer.question, answer.passages, answer, self.settings)

    def compare(self, services: list[str], aspects: list[str] | None = None) -> ComparisonTable:
        """A table of 2-6 services by aspect: each cell quoted from the notes and cited, "not in notes", or a conflict."""
        from kb.compare import compare

        return compare(self._build, self.embedder, services, aspects)

    # -- browsing ----------------------------------------------------------------------------------------
    def services(self) -> list[ServiceInfo]:
        """Catalogue entries that the notes mention, with how many chunks each has."""
        counts: dict[str, int] = {}
        for stored in self._build.index.chunks:
            for service_id in stored.chunk.service:
                counts[service_id] = counts.get(service_id, 0) + 1
        catalogue = get_catalogue()
        return [_service_info(s, counts[s.id]) for s in catalogue.services.values() if counts.get(s.id)]

    def service_passages(self, service: str) -> tuple[ServiceInfo, list[Chunk]]:
        """A service and its passages in file and line order."""
        entry = get_catalogue().resolve(service)
        chunks = [c.chunk for c in self._build.index.chunks if entry.id in c.chunk.service]
        chunks.sort(key=lambda c: (c.file, c.start_line))
        return _service_info(entry, len(chunks)), chunks

    def chunk(self, chunk_id: str, state: LoadedBuild | None = None) -> Chunk:
        """The chunk with this id, or NotFound."""
        state = state or self._build
        if chunk_id not in state.by_id:
            manifest = state.index.manifest
            raise NotFound(
                f"No passage with id {chunk_id!r} in the current index (build {manifest.build_id}, built "
                f"{manifest.built_at or 'at an unknown time'}). A passage keeps its id while its text stays the "
                "same; this one was edited or removed, or the index was rebuilt since the id was given: search again "
                "for a current id."
            )
        return state.chunk(state.by_id[chunk_id])

    def file_lines(self, file_name: str, state: LoadedBuild | None = None) -> list[str]:
        """The lines of an indexed note file (only files the manifest lists can be read)."""
        manifest = (state or self._build).index.manifest
        if file_name not in manifest.files:
            raise NotFound(f"No note file {file_name!r} in the current index.")
        notes_dir = Path(manifest.notes_dir or self.settings.notes_dir)
        # The encoding the build found for the file (UTF-16, a legacy one...), so lines match the passages' text.
        encoding = manifest.files[file_name].encoding or "utf-8-sig"
        try:
            return (notes_dir / file_name).read_bytes().decode(encoding, errors="replace").splitlines()
        except (OSError, LookupError) as exc:
            raise NotFound(f"The note file {file_name!r} cannot be read now ({exc}).") from exc

    def passage(self, chunk_id: str, context: int | None = None) -> PassageContext:
        """One passage with `context` lines of its file before and after it."""
        context = self.settings.default_passage_context if context is None else context
        if not 0 <= context <= self.settings.max_passage_context:
            raise BadQuery(f"context must be between 0 and {self.settings.max_passage_context} lines, got {context}.")
        state = self._build  # one build for both reads, even if a rebuild swaps in between
        chunk = self.chunk(chunk_id, state)
        lines = self.file_lines(chunk.file, state)
        before_start = max(1, chunk.start_line - context)
        after_end = min(len(lines), chunk.end_line + context)
        return PassageContext(
            passage=chunk,
            before=lines[before_start - 1 : chunk.start_line - 1],
            after=lines[chunk.end_line : after_end],
            before_start_line=before_start,
            after_end_line=after_end,
            line=lines[chunk.start_line - 1] if chunk.start_char is not None and chunk.start_line <= len(lines) else None,
        )

    def health(self) -> IndexHealth:
        """What the loaded index holds: build, files, chunks, model."""
        manifest = self.manifest
        return IndexHealth(
            status="ok",
            build_id=manifest.build_id,
            built_at=manifest.built_at,
            model=manifest.model.model_dump(),
            chunks=manifest.chunk_count,
            files={
                name: FileSummary(
                    chunks=info.chunks, reader=info.reader, encoding=info.encoding, title=info.title, tags=info.tags or []
                )
                for name, info in manifest.files.items()
            },
            problems=manifest.problems,
        )
