"""A build's files and the serving build's id kept in Milvus (the Milvus backend's SharedBuilds), so that `kb serve`
replicas on one Milvus need no shared folder: each one's index folder is a cache of what Milvus holds.

`<prefix>_files` holds every file of every kept build (chunks.jsonl, lines.json, the build's manifest.json: what
the vector and BM25 collections do not), one row per part: the whole file zlib-compressed, base64-encoded and cut
into parts under VARCHAR's 65,535 bytes, each row naming its build, file, part, the number of parts, the number of
the build's files and the sha256 of the file's bytes, so that a replica notices a part or a file missing.
`<prefix>_serving` holds one row naming the serving build.

Milvus wants a vector field in every collection: both carry a two-number zero vector (`pad`) that nothing searches.
Both are created with Strong consistency, so a replica reads the row a writer has just written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from kb.errors import IndexCorrupt, KBError
from kb.store.layout import BUILDS, build_id_of, index_dir_of, rebuild_hint
from kb.store.milvus_store import INSERT_BATCH, MAX_LIMIT, MAX_TEXT, MilvusPlace, shown_uri

if TYPE_CHECKING:
    from pymilvus import MilvusClient

# base64 is ASCII, so characters are bytes: a part stays under MAX_TEXT with room to spare.
PART_CHARS = 60000
# Parts read in one query: about 1 MB a round trip.
FETCH_PARTS = 16
SERVING_KEY = "serving"
PAD = [0.0, 0.0]


@dataclass(frozen=True)
class _Part:
    name: str
    part: int
    parts: int
    files: int
    sha256: str


def _encoded_parts(data: bytes) -> list[str]:
    encoded = base64.b64encode(zlib.compress(data, 6)).decode("ascii")
    return [encoded[start : start + PART_CHARS] for start in range(0, len(encoded), PART_CHARS)] or [""]


def _quoted(text: str) -> str:
    """A string literal of a Milvus filter expression."""
    return json.dumps(text)


class MilvusBuildFiles:
    """SharedBuilds on Milvus: store, fetch and drop a build's files; record and read the serving build."""

    def __init__(self, place: MilvusPlace) -> None:
        self.place = place

    @property
    def files_collection(self) -> str:
        return self.place.named("files")

    @property
    def serving_collection(self) -> str:
        return self.place.named("serving")

    def _client(self, index_dir: Path) -> "MilvusClient":
        return self.place.index_client(index_dir)

    def _where(self, index_dir: Path) -> str:
        return shown_uri(self.place.resolved_uri(index_dir))

    def _ensure(self, client: "MilvusClient", collection: str, extra_fields: bool) -> None:
        from pymilvus import DataType, MilvusClient

        if client.has_collection(collection):
            return
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("build", DataType.VARCHAR, max_length=128)
        if extra_fields:
            schema.add_field("name", DataType.VARCHAR, max_length=512)
            schema.add_field("part", DataType.INT64)
            schema.add_field("parts", DataType.INT64)
            schema.add_field("files", DataType.INT64)
            schema.add_field("sha256", DataType.VARCHAR, max_length=64)
            schema.add_field("data", DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field("pad", DataType.FLOAT_VECTOR, dim=len(PAD))
        index_params = MilvusClient.prepare_index_params()
        index_params.add_index("pad", index_type="FLAT", metric_type="L2")
        client.create_collection(collection, schema=schema, index_params=index_params, consistency_level="Strong")

    def store(self, build_directory: Path) -> None:
        """Every file of the build folder as rows of `<prefix>_files` (a killed build's rows of the same id replaced)."""
        index_dir, build_id = index_dir_of(build_directory), build_id_of(build_directory)
        client = self._client(index_dir)
        self._ensure(client, self.files_collection, extra_fields=True)
        self._drop_absent(client, index_dir, build_id)
        rows: list[dict] = []
        paths = sorted(p for p in build_directory.rglob("*") if p.is_file())
        for path in paths:
            name = path.relative_to(build_directory).as_posix()
            data = path.read_bytes()
            parts = _encoded_parts(data)
            sha256 = hashlib.sha256(data).hexdigest()
            rows.extend(
                {"key": f"{build_id}/{name}/{number}", "build": build_id, "name": name, "part": number,
                 "parts": len(parts), "files": len(paths), "sha256": sha256, "data": text, "pad": PAD}
                for number, text in enumerate(parts)
            )
        # Batches of a few MB: a gRPC message has a size limit.
        batch = max(1, INSERT_BATCH // 64)
        for start in range(0, len(rows), batch):
            client.insert(self.files_collection, rows[start : start + batch])
        client.flush(self.files_collection)

    def _drop_absent(self, client: "MilvusClient", index_dir: Path, build_id: str) -> None:
        """Delete the rows of builds with no folder in index_dir (a build killed before its folder was kept, a folder
        removed by hand) but the serving one, and any rows of `build_id` a killed build of the same id left."""
        builds = index_dir / BUILDS
        present = {build_id_of(folder) for folder in builds.iterdir()} if builds.is_dir() else set()
        keep = (present | {self.serving(index_dir) or ""}) - {build_id}
        stored = {row["build"] for row in self._rows(client, "part == 0", ["build"])}
        for gone in stored - keep:
            client.delete(self.files_collection, filter=f"build == {_quoted(gone)}")

    def _rows(self, client: "MilvusClient", row_filter: str, fields: list[str]) -> list[dict]:
        return client.query(self.files_collection, filter=row_filter, output_fields=fields, limit=MAX_LIMIT)

    def serve(self, index_dir: Path, build_id: str) -> None:
        """Record `build_id` as the serving build (one row, replaced)."""
        client = self._client(index_dir)
        self._ensure(client, self.serving_collection, extra_fields=False)
        client.upsert(self.serving_collection, [{"key": SERVING_KEY, "build": build_id, "pad": PAD}])

    def serving(self, index_dir: Path) -> str | None:
        """The serving build's id as Milvus records it; None before a build recorded one."""
        from pymilvus.exceptions import MilvusException

        client = self._client(index_dir)
        try:
            if not client.has_collection(self.serving_collection):
                return None
            found = client.get(self.serving_collection, ids=[SERVING_KEY], output_fields=["build"])
        except MilvusException as exc:
            raise KBError(f"Cannot read the serving build from Milvus at {self._where(index_dir)}: {exc.message}") from exc
        return str(found[0]["build"]) if found else None

    def fetch(self, index_dir: Path, build_id: str, into: Path) -> None:
        """Write the build's files into the new folder `into`, each checked: every part there, the sha256 equal."""
        from pymilvus.exceptions import MilvusException

        client = self._client(index_dir)
        into.mkdir(parents=True)
        try:
            if not client.has_collection(self.files_collection):
                raise self._corrupt(index_dir, build_id, "no build's files are in it")
            catalogue = [
                _Part(row["name"], int(row["part"]), int(row["parts"]), int(row["files"]), row["sha256"])
                for row in self._rows(client, f"build == {_quoted(build_id)}", ["name", "part", "parts", "files", "sha256"])
            ]
            if not catalogue:
                raise self._corrupt(index_dir, build_id, "it holds none of its files")
            for name, parts in self._files(index_dir, build_id, catalogue):
                encoded = "".join(self._data(client, build_id, name, len(parts)))
                try:
                    data = zlib.decompress(base64.b64decode(encoded, validate=True))
                except (ValueError, zlib.error) as exc:
                    raise self._corrupt(index_dir, build_id, f"its file {name} does not decode ({exc})") from None
                if hashlib.sha256(data).hexdigest() != parts[0].sha256:
                    raise self._corrupt(index_dir, build_id, f"its file {name} does not match its sha256")
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except MilvusException as exc:
            raise KBError(f"Cannot read the build {build_id} from Milvus at {self._where(index_dir)}: {exc.message}") from exc

    def _files(self, index_dir: Path, build_id: str, catalogue: list[_Part]) -> Iterator[tuple[str, list[_Part]]]:
        """Each file's parts in order, or IndexCorrupt naming the first missing part."""
        by_name: dict[str, list[_Part]] = {}
        for part in catalogue:
            by_name.setdefault(part.name, []).append(part)
        files = {part.files for part in catalogue}
        if files != {len(by_name)}:
            raise self._corrupt(index_dir, build_id, f"it holds {len(by_name)} of its {max(files)} files")
        if any(Path(name).is_absolute() or ".." in Path(name).parts for name in by_name):
            raise self._corrupt(index_dir, build_id, "a file's name points outside the build folder")
        for name, parts in sorted(by_name.items()):
            parts.sort(key=lambda p: p.part)
            expected = parts[0].parts
            numbers = [p.part for p in parts]
            if numbers != list(range(expected)) or {(p.parts, p.sha256) for p in parts} != {(expected, parts[0].sha256)}:
                missing = sorted(set(range(expected)) - set(numbers))
                what = f"part {missing[0] + 1} of {expected} of its file {name} is missing" if missing else f"the parts of its file {name} disagree"
                raise self._corrupt(index_dir, build_id, what)
            yield name, parts

    def _data(self, client: "MilvusClient", build_id: str, name: str, parts: int) -> Iterator[str]:
        for start in range(0, parts, FETCH_PARTS):
            keys = [f"{build_id}/{name}/{number}" for number in range(start, min(parts, start + FETCH_PARTS))]
            found = {row["key"]: row["data"] for row in client.get(self.files_collection, ids=keys, output_fields=["data"])}
            yield from (found.get(key, "") for key in keys)

    def _corrupt(self, index_dir: Path, build_id: str, what: str) -> IndexCorrupt:
        return IndexCorrupt(
            f"The build {build_id} in Milvus at {self._where(index_dir)} cannot be read: {what}. {rebuild_hint(index_dir)}"
        )

    def drop(self, build_directory: Path) -> None:
        """Delete the build's rows of `<prefix>_files`."""
        client = self._client(index_dir_of(build_directory))
        if client.has_collection(self.files_collection):
            client.delete(self.files_collection, filter=f"build == {_quoted(build_id_of(build_directory))}")
