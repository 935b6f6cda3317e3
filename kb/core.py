"""KnowledgeBase: the one facade that the CLI, the API and the tests call."""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from kb import answer as extract
from kb.config import Settings, get_settings
from kb.coverage import NotesVocabulary, identifier_mismatch, uncovered_names
from kb.difference import try_difference
from kb.evidence import segment_index, sentence_subjects
from kb.embedder import Embedder, QueryBatcher, get_embedder
from kb.errors import BadQuery, IndexCorrupt, NotFound
from kb.index import LoadedIndex, all_vectors, load_index, read_manifest
from kb.models import Answer, Chunk, ComparisonTable, Hit, PassageContext, SearchResult, ServiceInfo
from kb.outline import mostly_links
from kb.retrieval import (
    ServiceGuess,
    ServiceIndex,
    Signals,
    Weights,
    apply_focus,
    combine,
    demote,
    diversify,
    focus_query,
    word_set,
)

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
_CANDIDATES = 60
_LINE_CANDIDATES = 400


def clean_query(query: str, max_chars: int) -> str:
    """The query with control and zero-width characters removed; BadQuery when empty or too long."""
    if not isinstance(query, str):
        raise BadQuery("The query must be text.")
    if len(query) > max_chars:
        raise BadQuery(f"The query is {len(query)} characters long; the limit is {max_chars}.")
    cleaned = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in query
        if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"} or ch in "\t\n\r"
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise BadQuery("The query is empty: type a question or some keywords.")
    return cleaned


@dataclass(frozen=True)
class Focus:
    """The question as asked of the one service it is surely about (see kb.retrieval.focus_query)."""

    query: str
    vector: np.ndarray
    signals: Signals


@dataclass
class _State:
    """One loaded build; swapped as a whole so a request in flight keeps a consistent view."""

    index: LoadedIndex
    by_id: dict[str, int] = field(default_factory=dict)
    chunk_services: ServiceIndex = field(default_factory=lambda: ServiceIndex([]))
    word_sets: list[set[str]] = field(default_factory=list)
    vocabulary: NotesVocabulary = field(default_factory=lambda: NotesVocabulary(""))
    line_matrix: np.ndarray | None = None
    chunk_matrix: np.ndarray | None = None
    # Views other modules derive from this build (compare's segments); they go when the build is swapped out.
    derived: dict[str, object] = field(default_factory=dict)
    lines_of_chunk: dict[int, np.ndarray] = field(default_factory=dict)
    link_lists: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @classmethod
    def of(cls, index: LoadedIndex) -> "_State":
        rows_by_chunk: dict[int, list[int]] = {}
        corpus = "\n".join(" ".join(c.chunk.text.lower().split()) for c in index.chunks)
        for row, chunk_index in enumerate(index.line_chunk.tolist()):
            rows_by_chunk.setdefault(chunk_index, []).append(row)
        return cls(
            index=index,
            chunk_services=ServiceIndex([c.chunk.service for c in index.chunks]),
            word_sets=[word_set(c.chunk.text) for c in index.chunks],
            vocabulary=NotesVocabulary(corpus),
            by_id={c.chunk.id: i for i, c in enumerate(index.chunks)},
            line_matrix=all_vectors(index.line_vectors),
            chunk_matrix=all_vectors(index.chunk_vectors),
            lines_of_chunk={k: np.asarray(v) for k, v in rows_by_chunk.items()},
            link_lists=np.array([mostly_links(c.chunk.text) for c in index.chunks], dtype=bool),
        )

    def chunk(self, i: int) -> Chunk:
        return self.index.chunks[i].chunk


class KnowledgeBase:
    """A loaded index and model: search, ask, compare, services, passages."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or get_settings()
        self.index_dir = Path(self.settings.index_dir)
        self._embedder = embedder
        self._reload_lock = threading.Lock()
        self._service_vectors: tuple[list[str], np.ndarray] | None = None
        self._query_batcher: QueryBatcher | None = None
        self._state = _State.of(self._load())

    # -- loading -----------------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    def _load(self) -> LoadedIndex:
        index = load_index(self.index_dir)
        model = index.manifest.get("model", {})
        if model.get("name") != self.embedder.name or int(model.get("dimension", -1)) != self.embedder.dimension:
            raise IndexCorrupt(
                f"The index at {self.index_dir} was built with model {model.get('name')!r} "
                f"(dimension {model.get('dimension')}), but the configured model is {self.embedder.name!r} "
                f"(dimension {self.embedder.dimension}). Rebuild it with `kb ingest`."
            )
        return index

    def encode_query(self, text: str) -> np.ndarray:
        """The query's vector, (1, dimension); concurrent queries share model batches."""
        if self._query_batcher is None:
            self._query_batcher = QueryBatcher(self.embedder.encode)
        return self._query_batcher.encode_one(text)

    def warm_up(self) -> None:
        """Load the model weights, the catalogue's vectors and the comparison segments now, not on a first request."""
        from kb.compare import warm_up as warm_up_compare

        self.search("warm up", k=1)
        warm_up_compare(self)

    @property
    def manifest(self) -> dict:
        return self._state.index.manifest

    def reload_if_changed(self) -> bool:
        """Load a newer build when the manifest on disk names one (e.g. after `kb ingest` elsewhere)."""
        try:
            on_disk = read_manifest(self.index_dir).get("build_id")
        except Exception:
            return False  # a broken or missing manifest never replaces a good index in memory
        if on_disk == self._state.index.build_id:
            return False
        with self._reload_lock:
            if read_manifest(self.index_dir).get("build_id") == self._state.index.build_id:
                return False
            self._state = _State.of(self._load())
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
        from kb.catalogue import get_catalogue

        catalogue = get_catalogue()
        return set(catalogue.family(catalogue.resolve(service).id))

    def weights(self) -> Weights:
        return Weights.of(self.settings)

    def signals(self, query: str, state: _State | None = None, query_vector: np.ndarray | None = None) -> Signals:
        """What the query says about every chunk: dense, best lines, BM25, services named or described."""
        from kb.catalogue import get_catalogue

        state = state or self._state
        index = state.index
        size = len(index.chunks)
        if query_vector is None:
            query_vector = self.encode_query(query)
        # Every chunk's score is needed for fusion: one matrix product over the stored vectors beats a FAISS
        # search asked for all of them (which sorts them all); FAISS finds the best lines below.
        dense = state.chunk_matrix @ query_vector.reshape(-1) if size else np.zeros(0, dtype=np.float32)
        line_chunk = np.zeros(0, dtype=np.int32)
        line_scores = np.zeros(0, dtype=np.float32)
        if index.line_vectors.ntotal:
            line_found, line_rows = index.line_vectors.search(query_vector, min(_LINE_CANDIDATES, index.line_vectors.ntotal))
            line_chunk, line_scores = index.line_chunk[line_rows[0]], line_found[0]
        catalogue = get_catalogue()
        named = {f for s in catalogue.find_in_heading(query) for f in [s, *catalogue.children(s)]}
        guess = self._guess_service(query_vector)
        return Signals(
            dense=dense,
            line_chunk=line_chunk,
            line_scores=line_scores,
            lexical=index.lexical.scores(query),
            named=named,
            described={s: guess.similarity for s in guess.kin} if guess and self.settings.describe_boost else {},
            guess=guess,
        )

    def _guess_service(self, query_vector: np.ndarray) -> ServiceGuess | None:
        """The service whose catalogue description the query is closest to (named or only described)."""
        from kb.catalogue import get_catalogue

        if self.settings.describe_boost == 0 and self.settings.focus_boost == 0:
            return None
        catalogue = get_catalogue()
        if self._service_vectors is None:
            ids = list(catalogue.services)
            texts = [f"{s.full_name}: {s.description}" for s in catalogue.services.values()]
            self._service_vectors = (ids, self._cached_vectors("services", texts))
        ids, vectors = self._service_vectors
        sims = vectors @ query_vector.reshape(-1)
        order = np.argsort(-sims)
        service = catalogue.get(ids[int(order[0])])
        kin = frozenset(catalogue.family(service.id)) | ({service.parent} if service.parent else frozenset())
        runner_up = next((float(sims[i]) for i in order[1:] if ids[int(i)] not in kin), 0.0)
        vocabulary = f"{service.name} {service.full_name} {service.description} aws amazon aws's amazon's"
        return ServiceGuess(
            service=service.id,
            kin=kin,
            similarity=float(sims[order[0]]),
            margin=float(sims[order[0]]) - runner_up,
            vocabulary=frozenset(word_set(vocabulary)),
        )

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

    def focus(self, query: str, signals: Signals, state: _State) -> Focus | None:
        """The query stripped of its service's name and description, when the service guess is sure."""
        guess = signals.guess
        if guess is None or not guess.confident(self.weights()):
            return None
        focused = focus_query(query, guess.vocabulary)
        if not focused or focused == query:
            return None
        vector = self.encode_query(focused)
        return Focus(focused, vector, self.signals(focused, state, vector))

    def scores(
        self, signals: Signals, focused: Signals | None, state: _State, weights: Weights | None = None
    ) -> np.ndarray:
        """Hybrid scores, with the guessed service's chunks lifted and re-ranked by the focused query, and link
        lists set below passages that say things."""
        weights = weights or self.weights()
        scores = combine(signals, state.chunk_services, weights)
        if focused is not None and signals.guess is not None and signals.guess.confident(weights):
            in_service = state.chunk_services.mask(signals.guess.kin)
            scores = apply_focus(scores, combine(focused, state.chunk_services, weights), in_service, weights)
        return demote(scores, state.link_lists, weights.link_list_penalty)

    def search(self, query: str, k: int | None = None, service: str | None = None, mode: Mode = "hybrid") -> SearchResult:
        """The k passages that best answer the query, diverse, each cited to its exact lines."""
        query = clean_query(query, self.settings.max_query_chars)
        k = self._check_k(self.settings.default_k if k is None else k)
        if mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}, got {mode!r}.")
        allowed = self.service_filter(service)
        state = self._state
        ranked, _ = self._rank(query, k, allowed, mode, state)
        return SearchResult(query=query, results=self._hits(ranked, state))

    @staticmethod
    def _hits(ranked: list[tuple[int, float]], state: _State) -> list[Hit]:
        return [Hit(**state.chunk(i).model_dump(), score=round(float(s), 4)) for i, s in ranked]

    def _rank(
        self,
        query: str,
        k: int,
        allowed: set[str] | None,
        mode: Mode,
        state: _State,
        query_vector: np.ndarray | None = None,
    ) -> tuple[list[tuple[int, float]], Focus | None]:
        """The k best chunks with their scores, and the focused query when one was used."""
        focus = None
        if not state.index.chunks:
            return [], None
        if mode == "bm25":
            scores = state.index.lexical.scores(query)
        else:
            signals = self.signals(query, state, query_vector)
            if mode == "dense":
                scores = combine(signals, state.chunk_services, self.weights(), mode)
            else:
                focus = self.focus(query, signals, state)
                scores = self.scores(signals, focus.signals if focus else None, state)
        if allowed is not None:
            scores = np.where(state.chunk_services.mask(allowed), scores, -np.inf)
        order = [int(i) for i in np.argsort(-scores, kind="stable")[: max(_CANDIDATES, k * 3)] if np.isfinite(scores[i])]
        kept = diversify(order, state.word_sets, k)
        return [(i, float(scores[i])) for i in kept], focus

    # -- answers ------------------------------------------------------------------------------------------
    def ask(self, question: str, k: int = 5, service: str | None = None, *, generate: bool = True) -> Answer:
        """An extractive answer: 1-4 sentences from the best passages, each cited to its exact line; or an abstention.

        With a language model configured (KB_LLM_URL) the answer is then rewritten by it (`write_answer`), unless
        `generate` is false: a server does that step apart, as it waits on the network and not on the model here.
        """
        from kb.catalogue import get_catalogue

        question = clean_query(question, self.settings.max_query_chars)
        k = self._check_k(k)
        allowed = self.service_filter(service)
        state = self._state
        query_vector = self.encode_query(question)
        ranked, focus = self._rank(question, k, allowed, "hybrid", state, query_vector)
        hits = self._hits(ranked, state)
        catalogue = get_catalogue()
        uncovered = uncovered_names(question, state.vocabulary, lambda name: catalogue.find_in_heading(name) != [])
        if uncovered:
            return extract.abstain(question, hits, "; ".join(u.describe() for u in uncovered))
        difference = try_difference(question, catalogue, self.compare, hits)
        if difference is not None and not difference.abstained:
            return difference
        dense_by_line: dict[tuple[str, int, int], float] = {}
        best_line = 0.0
        for chunk_index, _ in ranked:
            rows = state.lines_of_chunk.get(chunk_index)
            if rows is None:
                continue
            sims = extract.cosine_rows(state.line_matrix[rows], query_vector)
            best_line = max(best_line, float(sims.max(initial=0.0)))
            if focus is not None:
                # A line that answers what is asked of the service matches the focused question best.
                sims = np.maximum(sims, extract.cosine_rows(state.line_matrix[rows], focus.vector))
            file_name = state.chunk(chunk_index).file
            for row, sim in zip(rows.tolist(), sims.tolist()):
                key = (file_name, int(state.index.line_numbers[row]), int(state.index.line_parts[row]))
                dense_by_line[key] = float(sim)
        # Calibrated on the question as asked (bench/abstain_bench.py), not on its focused form.
        if best_line < self.settings.abstain_below:
            return extract.abstain(question, hits)
        candidates = extract.candidates_from(hits)
        extract.score_candidates(candidates, dense_by_line, question, focus.query if focus else None)
        extract.weigh_evidence(candidates, sentence_subjects(state), self._asked_services(question, focus), catalogue,
                               segment_index(state).table_headers)
        chosen = extract.pick(candidates)
        if not chosen:
            return extract.abstain(question, hits)
        mismatch = identifier_mismatch(question, chosen[0].quote)
        if mismatch is not None:
            lead = chosen[0]
            return extract.abstain(
                question, hits, f"they give “{lead.quote}” ({lead.hit.file}:{lead.line}) for {mismatch[1]}, not for {mismatch[0]}"
            )
        elsewhere = self._stated_elsewhere(chosen[0], question, query_vector, state)
        disagreement = extract.disagreement(candidates + elsewhere, chosen, question, self._line_similarity(state))
        if disagreement is not None:
            chosen = extract.lead_with(disagreement[1], chosen)
            hits = hits + [c.hit for c in disagreement[1] if c.hit.id not in {h.id for h in hits}]
        answer = extract.compose(question, chosen, hits, disagreement[0] if disagreement else None)
        if difference is not None:
            answer.comparison = difference.comparison  # the table the notes give, beside the answer they state
        return self.write_answer(answer) if generate else answer

    def _stated_elsewhere(
        self, lead: extract.Candidate, question: str, query_vector: np.ndarray, state: _State
    ) -> list[extract.Candidate]:
        """Sentences anywhere in the notes that state a figure of the kind asked about the lead's subject, as close
        to the question as the lead: where another file may disagree with it, though retrieval did not bring it."""
        found = extract.figure_statements(lead, question, query_vector, segment_index(state), state.line_matrix)
        if not found:
            return []
        chunk_hits = {h.id: h for h in self._hits([(s.chunk, lead.hit.score) for s, _ in found], state)}
        by_index = {s.chunk: state.chunk(s.chunk).id for s, _ in found}
        return [
            extract.Candidate(hit_rank=len(chunk_hits), hit=chunk_hits[by_index[s.chunk]], line=s.line, part=0, quote=s.quote,
                              dense=cosine, score=lead.score, segment=s)
            for s, cosine in found
        ]

    @staticmethod
    def _line_similarity(state: _State):
        """Cosine of two candidates' lines (0 when either has no vector of its own)."""
        rows = segment_index(state)

        def similarity(a: extract.Candidate, b: extract.Candidate) -> float:
            ra = a.segment.vector_row if a.segment else -1
            rb = b.segment.vector_row if b.segment else -1
            if ra < 0 or rb < 0 or state.line_matrix is None:
                return 0.0
            return float(state.line_matrix[ra] @ state.line_matrix[rb])

        del rows
        return similarity

    def _asked_services(self, question: str, focus: Focus | None) -> set[str]:
        """The services a question is about: those it names, else the one it surely describes."""
        from kb.catalogue import get_catalogue

        named = set(get_catalogue().find_in_heading(question))
        if named:
            return named
        guess = focus.signals.guess if focus is not None else None
        return {guess.service} if guess is not None else set()

    def write_answer(self, answer: Answer) -> Answer:
        """The answer rewritten from its passages by the language model at KB_LLM_URL, every sentence checked and
        cited; the answer itself when no model is set, it abstained, or the model fails."""
        if not self.settings.llm_url:
            return answer
        from kb.generation import generate_answer

        return generate_answer(answer.question, answer.passages, answer, self.settings)

    def compare(self, services: list[str], aspects: list[str] | None = None) -> ComparisonTable:
        """A table of 2-6 services by aspect: each cell quoted from the notes and cited, "not in notes", or a conflict."""
        from kb.compare import compare

        return compare(self, services, aspects)

    # -- browsing ----------------------------------------------------------------------------------------
    def services(self) -> list[ServiceInfo]:
        """Catalogue entries that the notes mention, with how many chunks each has."""
        from kb.catalogue import get_catalogue

        counts: dict[str, int] = {}
        for stored in self._state.index.chunks:
            for service_id in stored.chunk.service:
                counts[service_id] = counts.get(service_id, 0) + 1
        catalogue = get_catalogue()
        return [
            ServiceInfo(
                id=s.id, name=s.name, full_name=s.full_name, aliases=s.aliases, category=s.category, chunk_count=counts[s.id]
            )
            for s in catalogue.services.values()
            if counts.get(s.id)
        ]

    def service_passages(self, service: str) -> tuple[ServiceInfo, list[Chunk]]:
        """A service and its passages in file and line order."""
        from kb.catalogue import get_catalogue

        entry = get_catalogue().resolve(service)
        chunks = [c.chunk for c in self._state.index.chunks if entry.id in c.chunk.service]
        chunks.sort(key=lambda c: (c.file, c.start_line))
        info = ServiceInfo(
            id=entry.id,
            name=entry.name,
            full_name=entry.full_name,
            aliases=entry.aliases,
            category=entry.category,
            chunk_count=len(chunks),
        )
        return info, chunks

    def chunk(self, chunk_id: str, state: _State | None = None) -> Chunk:
        """The chunk with this id, or NotFound."""
        state = state or self._state
        if chunk_id not in state.by_id:
            manifest = state.index.manifest
            raise NotFound(
                f"No passage with id {chunk_id!r} in the current index (build {manifest['build_id']}, built "
                f"{manifest.get('built_at') or 'at an unknown time'}). A passage keeps its id while its text stays the "
                "same; this one was edited or removed, or the index was rebuilt since the id was given: search again "
                "for a current id."
            )
        return state.chunk(state.by_id[chunk_id])

    def file_lines(self, file_name: str, state: _State | None = None) -> list[str]:
        """The lines of an indexed note file (only files the manifest lists can be read)."""
        manifest = (state or self._state).index.manifest
        if file_name not in manifest.get("files", {}):
            raise NotFound(f"No note file {file_name!r} in the current index.")
        notes_dir = Path(manifest.get("notes_dir") or self.settings.notes_dir)
        # The encoding the build found for the file (UTF-16, a legacy one...), so lines match the passages' text.
        encoding = manifest["files"][file_name].get("encoding") or "utf-8-sig"
        try:
            return (notes_dir / file_name).read_bytes().decode(encoding, errors="replace").splitlines()
        except (OSError, LookupError) as exc:
            raise NotFound(f"The note file {file_name!r} cannot be read now ({exc}).") from exc

    def passage(self, chunk_id: str, context: int = 3) -> PassageContext:
        """One passage with `context` lines of its file before and after it."""
        if not 0 <= context <= 50:
            raise BadQuery(f"context must be between 0 and 50 lines, got {context}.")
        state = self._state  # one build for both reads, even if a rebuild swaps in between
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

    def health(self) -> dict:
        """What the loaded index holds: build, files, chunks, model."""
        manifest = self.manifest
        return {
            "status": "ok",
            "build_id": manifest["build_id"],
            "built_at": manifest.get("built_at"),
            "model": manifest.get("model"),
            "chunks": manifest.get("chunk_count"),
            "files": {
                name: {
                    "chunks": info.get("chunks"),
                    "reader": info.get("reader"),
                    "encoding": info.get("encoding"),
                    "title": info.get("title"),
                    "tags": info.get("tags", []),
                }
                for name, info in manifest.get("files", {}).items()
            },
            "problems": manifest.get("problems", []),
        }
