"""The manifest: what one build holds and was made from, typed. Read from and written to manifest.json.

The JSON keeps the shape builds have always written (format version 2): old indexes load unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer

from kb.errors import IndexCorrupt, IndexNotBuilt
from kb.models import FileProblem
from kb.store.layout import MANIFEST, ingest_command, rebuild_hint

FORMAT_VERSION = 2


class NamedModel(Protocol):
    """Anything that names an embedding model and its vector length (an Embedder, a ModelInfo)."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...


class ModelInfo(BaseModel):
    """The embedding model a build was made with."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    dimension: int


class FileInfo(BaseModel):
    """One note file of a build: its bytes' hash, how it was read and what came of it."""

    sha256: str
    reader: str | None = None
    encoding: str | None = None
    lines: int | None = None
    sections: int | None = None
    chunks: int | None = None
    # Written only when the note has them.
    front_matter_lines: int | None = None
    title: str | None = None
    tags: list[str] | None = None

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: Any) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class Fingerprint(BaseModel):
    """What a build depends on besides the model: equal fingerprints mean a rebuild would make the same build."""

    notes: dict[str, str] = Field(default_factory=dict, description="note file name -> sha256 of its bytes")
    catalogue: str | None = None
    chunk_max_tokens: int | None = None
    pipeline: int | None = None
    suffixes: list[str] = Field(default_factory=list)


class Manifest(BaseModel):
    """manifest.json of a build (a copy sits in the build's folder; the one at the top names the serving build)."""

    model_config = ConfigDict(protected_namespaces=())

    format_version: int = FORMAT_VERSION
    build_id: str
    built_at: str | None = None
    model: ModelInfo
    chunk_max_tokens: int | None = None
    notes_dir: str | None = None
    note_suffixes: list[str] | None = None
    files: dict[str, FileInfo] = Field(default_factory=dict)
    chunk_count: int
    line_count: int | None = None
    problems: list[FileProblem] = Field(default_factory=list)
    fingerprint: Fingerprint | None = None

    def built_with(self, model: NamedModel | str) -> bool:
        """Whether this build's vectors come from that model (a bare name checks the name only)."""
        if isinstance(model, str):
            return self.model.name == model
        return self.model.name == model.name and self.model.dimension == model.dimension

    def to_json(self, ascii_only: bool = True) -> str:
        """The manifest as builds write it (indented; the top-level copy escapes non-ASCII, the build's own does not)."""
        return json.dumps(self.model_dump(exclude_none=False), indent=2, ensure_ascii=ascii_only)


def read_manifest(index_dir: Path) -> Manifest:
    """The serving manifest, checked for shape and format version."""
    return manifest_at(index_dir / MANIFEST, index_dir)


def manifest_at(path: Path, index_dir: Path) -> Manifest:
    """The manifest in the file `path` of index_dir (the serving one, or a build's copy), checked as read_manifest does."""
    if not path.exists():
        raise IndexNotBuilt(f"No index at {index_dir}. Build it with {ingest_command(index_dir)}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"The index manifest {path} is unreadable ({exc}). {rebuild_hint(index_dir)}") from exc
    if not isinstance(data, dict) or "build_id" not in data:
        raise IndexCorrupt(f"The index manifest {path} is not a notes-kb manifest. {rebuild_hint(index_dir)}")
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"The index at {index_dir} has format version {data.get('format_version')!r}, this notes-kb reads "
            f"{FORMAT_VERSION}. {rebuild_hint(index_dir)}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].lower()}" for e in exc.errors()[:3])
        raise IndexCorrupt(f"The index manifest {path} is incomplete ({fields}). {rebuild_hint(index_dir)}") from None


def serving_build_id(index_dir: Path) -> str | None:
    """The build id the manifest names, without checking anything else (None when there is none to read)."""
    try:
        build_id = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("build_id")
    except (OSError, ValueError, AttributeError):
        return None
    return build_id if isinstance(build_id, str) else None


def swap_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Make `manifest` the serving one of index_dir in one atomic replace: readers see the old build or the new one."""
    tmp = index_dir / f".{MANIFEST}.{manifest.build_id}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(manifest.to_json())
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, index_dir / MANIFEST)
