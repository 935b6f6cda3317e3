"""The Milvus backend: a build's vectors and its BM25 index kept in Milvus collections, on Milvus Lite (a local
file) or on a Milvus server or cluster; only `KB_MILVUS_URI` tells them apart.

A build writes three collections named after it (`<prefix>_<build id>_chunks`, `_lines`: row and vector;
`_bm25`: row, text and the sparse vector Milvus's BM25 function makes of the text). The build folder holds the
chunk store, the line map and the manifest, so the manifest's atomic swap is also the swap of collections (on Lite
and on a server alike), and the writer's garbage collection drops an old build's collections with its folder. The
folder's files and the serving build's id are kept in Milvus too (kb/store/milvus_files.py), so a folder elsewhere
follows the same builds (kb/store/replica.py). A build that fails before the swap leaves the serving build's collections untouched; its own are dropped
with its temporary folder by the next build.

Right after the manifest swap the writer moves three aliases (`<prefix>_chunks`, `_lines`, `_bm25`) to the new
build's collections, before the old ones are dropped: what reads the index through Milvus alone (a dashboard, another
service) sees the serving build. A loaded build reads its own collections by name, not through the aliases, so a
request never mixes one build's text with another's vectors while an alias moves.

A loaded build keeps no vector matrix: `rows()` fetches the vectors the answer and compare layers read, a block of
rows at a time (kb/store/rows.py), and retrieval asks `search` for the best chunks instead of multiplying them all.

Search runs in Milvus: the best lines by inner product (the service filter is a scalar filter on rows), and BM25
over every chunk. The BM25 text is the product's own tokens (stemmed, stop words out, kb.lexical.tokenize) joined
by spaces, so Milvus counts the same terms as bm25s does; its k1 and b are bm25s's. The fusion stays the product's.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from kb.errors import IndexBusy, IndexCorrupt, KBError
from kb.lexical import tokenize
from kb.store import Backend
from kb.store.layout import CHUNK_STORE, LINE_STORE, build_id_of, index_dir_of, rebuild_hint
from kb.store.rows import FetchedRows

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from kb.config import Settings

# Milvus answers at most this many hits per search (its topK ceiling), and a query page of at most this many rows.
MAX_LIMIT = 16384
QUERY_PAGE = 10000
INSERT_BATCH = 2000
# bm25s's defaults (kb/lexical.py builds bm25s.BM25() with them); Milvus's own default k1 is 1.2.
BM25_K1 = 1.5
BM25_B = 0.75
# A lexical text is a chunk's heading path, tags and body as tokens: far below this; Milvus's VARCHAR maximum.
MAX_TEXT = 65535
LITE_FILE = "milvus.db"
LEXICAL_STORE = "bm25"
# A build id (kb/store/writer.py: UTC time and 8 hex digits) as it stands in a collection name.
BUILD_ID_PATTERN = r"\d{8}T\d{6}_[0-9a-f]{8}"
SERVER_SCHEMES = ("http", "https", "tcp", "grpc", "grpcs")
STORES = (CHUNK_STORE, LINE_STORE, LEXICAL_STORE)

logger = logging.getLogger(__name__)


def is_server(uri: str) -> bool:
    """Whether the URI names a Milvus server (or cluster) rather than a Milvus Lite file."""
    return urlsplit(uri).scheme.lower() in SERVER_SCHEMES


def shown_uri(uri: str) -> str:
    """The URI without a user name or password in it, fit for /health and logs."""
    if not is_server(uri):
        return uri
    parts = urlsplit(uri)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


_clients: dict[tuple[str, str], "MilvusClient"] = {}
_clients_lock = threading.Lock()


def _client(uri: str, token: str) -> "MilvusClient":
    """One client per URI and token in a process: Milvus Lite lets one process open its file, and the server's
    connections are pooled by the client anyway."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    with _clients_lock:
        client = _clients.get((uri, token))
        if client is None:
            if not is_server(uri):
                # Milvus Lite answers the client through a gRPC server inside this process, which logs each call
                # it does not implement (AllocTimestamp, asked while waiting for an index to build) as an ERROR
                # with a traceback; the client goes on without it. Its real failures still reach the client.
                logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
            try:
                client = MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)
            except MilvusException as exc:
                if not is_server(uri):
                    raise IndexBusy(
                        f"The Milvus Lite file {uri} cannot be opened ({exc.message}): Milvus Lite lets one process "
                        "open it at a time. Rebuild through the serving API (POST /admin/reindex), or use a Milvus "
                        "server (KB_MILVUS_URI=http://host:19530) for replicas and `kb ingest` beside a server."
                    ) from exc
                raise KBError(f"Cannot connect to Milvus at {shown_uri(uri)}: {exc.message}") from exc
            _clients[(uri, token)] = client
        return client


def close_clients() -> None:
    """Close every client this process opened (a Milvus Lite file is then free for another process)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


@dataclass(frozen=True)
class MilvusPlace:
    """Where a backend keeps its collections: the URI (empty: a Milvus Lite file in the index folder), the token,
    and the prefix of collection names (one prefix for each index folder that shares a Milvus)."""

    uri: str = ""
    token: str = field(default="", repr=False)
    prefix: str = "notes_kb"
    index_type: str = "FLAT"

    @classmethod
    def of(cls, settings: "Settings") -> "MilvusPlace":
        return cls(settings.milvus_uri, settings.milvus_token.get_secret_value(), settings.milvus_prefix, settings.milvus_index)

    def resolved_uri(self, index_dir: Path) -> str:
        """The URI the client opens for an index folder: a server's as given, a Lite file's as an absolute path."""
        if not self.uri:
            return str((index_dir / LITE_FILE).resolve())
        if is_server(self.uri):
            return self.uri
        return str(Path(self.uri).expanduser().resolve())

    def client(self, build_directory: Path) -> "MilvusClient":
        return self.index_client(index_dir_of(build_directory))

    def index_client(self, index_dir: Path) -> "MilvusClient":
        return _client(self.resolved_uri(index_dir), self.token)

    def collection(self, build_directory: Path, name: str) -> str:
        """The collection of store `name` of a build: named after the build id (a temporary folder's too)."""
        return re.sub(r"\W", "_", f"{self.prefix}_{build_id_of(build_directory)}_{name}")

    def drop(self, build_directory: Path, name: str) -> None:
        client = self.client(build_directory)
        collection = self.collection(build_directory, name)
        if client.has_collection(collection):
            # A server refuses to drop a collection an alias names; an alias left on a build that no longer serves
            # (moved by hand, or a publish that failed) goes with it.
            for alias in client.list_aliases(collection).get("aliases", []):
                client.drop_alias(alias)
            client.drop_collection(collection)

    def named(self, name: str) -> str:
        """A name of this prefix that no build owns (`<prefix>_<name>`): a store's alias (`<prefix>_chunks`, naming
        the serving build's collection), or a collection of every build (`<prefix>_files`)."""
        return re.sub(r"\W", "_", f"{self.prefix}_{name}")

    def aliased(self, client: "MilvusClient", name: str) -> str | None:
        """The collection the alias of store `name` names; None while there is no alias."""
        alias = self.named(name)
        # Looked up in the list first: describe_alias of an unknown alias logs an ERROR with a traceback, then raises.
        if alias not in client.list_aliases().get("aliases", []):
            return None
        return client.describe_alias(alias).get("collection_name")

    def publish(self, build_directory: Path) -> None:
        """Point the aliases at this build's collections: created the first time, moved after (one step each on a
        server, so a client reading through an alias goes from the old collection to the new). A build whose
        collections are not in Milvus (made with another backend) is left alone."""
        client = self.client(build_directory)
        aliases = set(client.list_aliases().get("aliases", []))
        for name in STORES:
            collection, alias = self.collection(build_directory, name), self.named(name)
            if not client.has_collection(collection):
                continue
            if alias in aliases:
                client.alter_alias(collection, alias)
            else:
                client.create_alias(collection, alias)

    def live_build(self, index_dir: Path) -> str | None:
        """The build id the aliases name: the build a reader through the aliases sees (None before the first)."""
        collection = self.aliased(self.index_client(index_dir), CHUNK_STORE) or ""
        found = re.fullmatch(rf"{re.escape(self.prefix)}_({BUILD_ID_PATTERN})_{CHUNK_STORE}", collection)
        return found.group(1).replace("_", "-", 1) if found else None

    def check_alias(self, client: "MilvusClient", build_directory: Path, name: str) -> None:
        """Warn when the alias of store `name` names a collection of no build of this index folder: another index
        folder uses the same prefix, and each one's builds drop the other's collections as orphans.

        An alias on another build of this folder is no fault: a newer one is a swap under way (the manifest is read
        again within KB_INDEX_CHECK_S), an older one a writer that stopped between the swap and the alias move (the
        next build moves it)."""
        collection = self.aliased(client, name)
        if collection is None or collection == self.collection(build_directory, name):
            return
        builds = build_directory.parent
        ours = {self.collection(folder, name) for folder in builds.iterdir()} if builds.is_dir() else set()
        if collection not in ours:
            logger.warning(
                "The Milvus alias %s names %s, a collection of no build in %s: another index folder uses the prefix "
                "%r on this Milvus. Give each index folder its own KB_MILVUS_PREFIX.",
                self.named(name), collection, builds, self.prefix,
            )

    def drop_orphans(self, build_directory: Path) -> None:
        """Drop this prefix's collections whose build folder is gone (a failed build whose folder was removed
        without its collections). Builds are written under the index lock, so no other build is being written;
        this is why one prefix serves one index, rebuilt from one place at a time (its replicas' folders are caches
        of it, kb/store/replica.py, and a rebuild through one of them first fetches the serving build)."""
        builds = build_directory.parent
        present = {self.collection(folder, "") for folder in builds.iterdir()} if builds.is_dir() else set()
        # Only names this backend makes (prefix, a build id, a store), so another prefix that starts with this one
        # (notes_kb_team_a beside notes_kb) is never taken for an orphan.
        ours = re.compile(rf"{re.escape(self.prefix)}_{BUILD_ID_PATTERN}_({CHUNK_STORE}|{LINE_STORE}|{LEXICAL_STORE})")
        client = self.client(build_directory)
        for collection in client.list_collections():
            if ours.fullmatch(collection) and not any(collection.startswith(p) for p in present):
                client.drop_collection(collection)

    def opened(self, build_directory: Path, name: str) -> tuple["MilvusClient", str]:
        """The client and the loaded collection of store `name`; IndexCorrupt when the collection is missing."""
        client = self.client(build_directory)
        collection = self.collection(build_directory, name)
        if not client.has_collection(collection):
            raise IndexCorrupt(
                f"The Milvus collection {collection} of the build {build_directory} is missing from "
                f"{shown_uri(self.resolved_uri(index_dir_of(build_directory)))}. {rebuild_hint(index_dir_of(build_directory))}"
            )
        client.load_collection(collection)
        self.check_alias(client, build_directory, name)
        return client, collection

    def created(self, build_directory: Path, name: str, schema, index_params) -> tuple["MilvusClient", str]:
        """A new, empty collection for store `name` (one left by a killed build of the same id is replaced)."""
        client = self.client(build_directory)
        collection = self.collection(build_directory, name)
        self.drop_orphans(build_directory)
        if client.has_collection(collection):
            client.drop_collection(collection)
        client.create_collection(collection, schema=schema, index_params=index_params)
        return client, collection


def _insert(client: "MilvusClient", collection: str, rows: list[dict]) -> None:
    for start in range(0, len(rows), INSERT_BATCH):
        client.insert(collection, rows[start : start + INSERT_BATCH])
    client.flush(collection)
    client.load_collection(collection)


def _row_count(client: "MilvusClient", collection: str) -> int:
    return int(client.get_collection_stats(collection).get("row_count", -1))


class MilvusVectorStore:
    """A VectorStore over one Milvus collection of (row, vector)."""

    def __init__(self, client: "MilvusClient", collection: str, dimension: int, size: int) -> None:
        self._client = client
        self._collection = collection
        self._dimension = dimension
        self._size = size

    @property
    def dimension(self) -> int:
        return self._dimension

    def __len__(self) -> int:
        return self._size

    def search(self, query: np.ndarray, k: int, allowed_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best rows for each query vector, best first, searched in Milvus (see VectorStore.search)."""
        query = np.asarray(query, dtype=np.float32).reshape(-1, self._dimension)
        searched = self._size if allowed_rows is None else len(allowed_rows)
        limit = min(k, searched, MAX_LIMIT)
        if limit <= 0:
            return np.zeros((len(query), 0), dtype=np.float32), np.zeros((len(query), 0), dtype=np.int64)
        row_filter = "" if allowed_rows is None else f"row in {[int(r) for r in allowed_rows]}"
        found = self._client.search(
            self._collection, data=[q.tolist() for q in query], anns_field="vector", limit=limit,
            filter=row_filter, output_fields=["row"], search_params={"metric_type": "IP"},
        )
        scores = np.full((len(query), limit), -np.inf, dtype=np.float32)
        rows = np.full((len(query), limit), -1, dtype=np.int64)
        for i, hits in enumerate(found):
            # Ties keep the lower row first, as FAISS's flat search does.
            ranked = sorted(((float(hit["distance"]), int(hit["entity"]["row"])) for hit in hits), key=lambda sr: (-sr[0], sr[1]))
            for j, (score, row) in enumerate(ranked[:limit]):
                scores[i, j], rows[i, j] = score, row
        return scores, rows

    def rows(self) -> FetchedRows:
        """The vectors fetched from Milvus a block of rows at a time, as the answer and compare layers read them."""
        return FetchedRows(self._fetch, self._size, self._dimension)

    def _fetch(self, rows: np.ndarray) -> np.ndarray:
        matrix = np.zeros((len(rows), self._dimension), dtype=np.float32)
        position = {row: i for i, row in enumerate(rows.tolist())}
        for start in range(0, len(rows), QUERY_PAGE):
            page = self._client.query(self._collection, ids=rows[start : start + QUERY_PAGE].tolist(), output_fields=["row", "vector"])
            for entity in page:
                matrix[position[int(entity["row"])]] = entity["vector"]
        return matrix

    def vectors(self) -> np.ndarray:
        """Every stored vector in row order, read from Milvus a page at a time."""
        matrix = np.zeros((self._size, self._dimension), dtype=np.float32)
        for start in range(0, self._size, QUERY_PAGE):
            page = self._client.query(
                self._collection, filter=f"row >= {start} and row < {start + QUERY_PAGE}",
                output_fields=["row", "vector"], limit=QUERY_PAGE,
            )
            for entity in page:
                matrix[int(entity["row"])] = entity["vector"]
        return matrix


class MilvusVectorStores:
    """The class side of MilvusVectorStore (VectorStoreType): write, open and drop a build's collections."""

    def __init__(self, place: MilvusPlace) -> None:
        self.place = place

    def write(self, directory: Path, name: str, vectors: np.ndarray) -> None:
        from pymilvus import DataType, MilvusClient

        vectors = np.asarray(vectors, dtype=np.float32)
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
        index_params = MilvusClient.prepare_index_params()
        index_params.add_index("vector", index_type=self.place.index_type, metric_type="IP")
        client, collection = self.place.created(directory, name, schema, index_params)
        _insert(client, collection, [{"row": row, "vector": vector.tolist()} for row, vector in enumerate(vectors)])

    def open(self, directory: Path, name: str, expected_rows: int, dimension: int) -> MilvusVectorStore:
        client, collection = self.place.opened(directory, name)
        fields = {field["name"]: field for field in client.describe_collection(collection)["fields"]}
        stored_dimension = int(fields.get("vector", {}).get("params", {}).get("dim", -1))
        rows = _row_count(client, collection)
        if rows != expected_rows or stored_dimension != dimension:
            raise IndexCorrupt(
                f"The Milvus collection {collection} holds {rows} vectors of dimension {stored_dimension}, the "
                f"manifest expects {expected_rows} of dimension {dimension}: they are out of step. {rebuild_hint(index_dir_of(directory))}"
            )
        return MilvusVectorStore(client, collection, dimension, rows)

    def drop(self, directory: Path, name: str) -> None:
        self.place.drop(directory, name)


class MilvusLexicalStore:
    """A LexicalStore: Milvus's BM25 over the chunks' tokens, one score per chunk."""

    def __init__(self, client: "MilvusClient", collection: str, size: int) -> None:
        self._client = client
        self._collection = collection
        self.size = size

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for this query (zeros when no query word is in any chunk)."""
        scores = np.zeros(self.size, dtype=np.float32)
        tokens = tokenize([query])[0]
        if not tokens or not self.size:
            return scores
        found = self._client.search(
            self._collection, data=[" ".join(tokens)], anns_field="sparse", limit=min(self.size, MAX_LIMIT),
            output_fields=["row"], search_params={"metric_type": "BM25"},
        )
        for hit in found[0]:
            # Milvus Lite reports a BM25 score negated (a distance, smaller is better); a server reports it as is.
            scores[int(hit["entity"]["row"])] = abs(float(hit["distance"]))
        return scores


class MilvusLexicalStores:
    """The class side of MilvusLexicalStore (LexicalStoreType)."""

    def __init__(self, place: MilvusPlace) -> None:
        self.place = place

    def write(self, directory: Path, texts: list[str]) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        # The text is already the product's tokens: the standard tokenizer only splits it at the spaces.
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True, analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
        index_params = MilvusClient.prepare_index_params()
        index_params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
        client, collection = self.place.created(directory, LEXICAL_STORE, schema, index_params)
        token_lists = tokenize(texts) if texts else []
        _insert(client, collection, [{"row": row, "text": " ".join(tokens)[:MAX_TEXT]} for row, tokens in enumerate(token_lists)])

    def open(self, directory: Path, size: int) -> MilvusLexicalStore:
        client, collection = self.place.opened(directory, LEXICAL_STORE)
        rows = _row_count(client, collection)
        if rows != size:
            raise IndexCorrupt(
                f"The Milvus collection {collection} holds {rows} chunks, the manifest says {size}. {rebuild_hint(index_dir_of(directory))}"
            )
        return MilvusLexicalStore(client, collection, size)

    def drop(self, directory: Path) -> None:
        self.place.drop(directory, LEXICAL_STORE)


def milvus_backend(settings: "Settings") -> Backend:
    """The Milvus backend at the place the settings name (KB_MILVUS_URI, KB_MILVUS_TOKEN, KB_MILVUS_PREFIX)."""
    from kb.store.milvus_files import MilvusBuildFiles

    place = MilvusPlace.of(settings)
    return Backend(
        "milvus", MilvusVectorStores(place), MilvusLexicalStores(place), publish=place.publish, shared=MilvusBuildFiles(place)
    )


def backend_uri(settings: "Settings") -> str:
    """Where the Milvus backend of these settings keeps its collections, fit to show (no credentials)."""
    return shown_uri(MilvusPlace.of(settings).resolved_uri(Path(settings.index_dir)))
