"""The data shapes of notes-kb, from a reader's section to the API's answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A run of lines under one heading, as a reader finds it in a note file."""

    heading_path: list[str] = Field(description="Headings from the top of the file down to this section")
    start_line: int = Field(ge=1, description="1-based, inclusive; the heading line when there is one")
    end_line: int = Field(ge=1, description="1-based, inclusive")
    heading_line: int | None = Field(None, description="The line holding the heading itself, if any")
    text: str = Field(description="Exactly lines start_line..end_line of the file joined with newlines")


class Chunk(BaseModel):
    """A citable passage: exactly lines start_line..end_line of one note file, or a slice of one long line."""

    id: str
    file: str = Field(description="The note's path in the notes folder, with forward slashes (AWS/sub/storage.md)")
    start_line: int
    end_line: int
    service: list[str] = Field(default_factory=list, description="Catalogue ids of the services it is about")
    heading_path: list[str] = Field(default_factory=list)
    text: str
    start_char: int | None = Field(
        None,
        description="For a passage cut from one line too long to embed whole: its text is exactly "
        "line[start_char:end_char] of line start_line (0-based, end exclusive); None for whole lines",
    )
    end_char: int | None = None
    tags: list[str] = Field(default_factory=list, description="Tags from the note's front matter")


class Hit(Chunk):
    """A chunk returned by a search, with its fused score."""

    score: float


class SearchResult(BaseModel):
    query: str
    results: list[Hit]


class Citation(BaseModel):
    """Where a quoted sentence stands: its exact lines, and the words quoted from them."""

    n: int
    id: str = Field(description="The chunk the quote was taken from")
    file: str
    start_line: int
    end_line: int
    quote: str
    context: str = Field(
        default="",
        description="What the quoted line sits under: its passage's last heading and, for a nested line, the bullet "
        "above it (\"Global Secondary Index\" for \"Can be created and deleted at will.\")",
    )
    table_header: str | None = Field(
        default=None,
        description="For a quoted table row: the table's header row as written, which says what each cell means",
    )
    table_header_line: int | None = None
    start_char: int | None = Field(
        default=None,
        description="For a quote from a slice of one long line: line[start_char:end_char] of start_line is the quote",
    )
    end_char: int | None = None


class Answer(BaseModel):
    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Hit] = Field(default_factory=list)
    # A difference question ("A vs B") is answered from this table of the two; None for other questions.
    comparison: "ComparisonTable | None" = None
    # Set when the notes disagree on what was asked (two files, two figures); both sides are cited first.
    conflict_reason: str | None = None


class ServiceInfo(BaseModel):
    id: str
    name: str
    full_name: str
    aliases: list[str] = Field(default_factory=list)
    category: str = ""
    chunk_count: int = 0


class PassageContext(BaseModel):
    """One passage with a few lines of its file before and after it."""

    passage: Chunk
    before: list[str]
    after: list[str]
    before_start_line: int
    after_end_line: int
    line: str | None = Field(
        None, description="For a passage that is a slice of one long line: that whole line (the slice is line[start_char:end_char])"
    )


class CellCitation(BaseModel):
    file: str
    start_line: int
    end_line: int
    quote: str
    id: str | None = None
    value: str | None = Field(
        default=None, description="What the quote states for the aspect, in short: its figures (\"4 days, 14 days\") "
        "or, for a table cell, the cell itself"
    )


class Cell(BaseModel):
    service: str
    aspect: str
    value: str
    status: Literal["found", "not_in_notes", "conflict"]
    citations: list[CellCitation] = Field(default_factory=list)
    conflict_reason: str | None = None


class ComparisonTable(BaseModel):
    services: list[str]
    aspects: list[str]
    cells: list[Cell]


class FileProblem(BaseModel):
    """A file that was skipped, or a note that was read with a problem, and why.

    level: "skipped" (not in the index), "bad_lines" (indexed, but some lines hold bytes that could not be
    decoded), "warning" (indexed in full, read in a guessed encoding), "notice" (nothing lost, e.g. an empty note).
    """

    file: str
    reason: str
    line: int | None = None
    level: Literal["skipped", "bad_lines", "warning", "notice"] = "skipped"
    lines: list[int] = Field(default_factory=list, description="Every line the problem concerns, when it is lines")

    @property
    def loses_text(self) -> bool:
        """True when something of the notes is not in the index as written (the ingest exits 1)."""
        return self.level in ("skipped", "bad_lines")



class FileSummary(BaseModel):
    chunks: int | None = None
    reader: str | None = Field(None, description="The note shape the file was read as")
    encoding: str | None = Field(None, description="The encoding the file was read in (utf-8-sig: UTF-8, BOM or not)")
    title: str | None = Field(None, description="The title its front matter gives")
    tags: list[str] = Field(default_factory=list, description="The tags its front matter gives")


class IndexHealth(BaseModel):
    """What is serving: the build, its model and files; or, with status "no_index", why nothing is."""

    model_config = ConfigDict(protected_namespaces=())

    status: Literal["ok", "no_index"]
    build_id: str | None = None
    built_at: str | None = None
    model: dict | None = Field(None, description="The embedding model the index was built with (name, dimension)")
    chunks: int | None = None
    files: dict[str, FileSummary] = Field(default_factory=dict)
    problems: list[FileProblem] = Field(
        default_factory=list, description="Files skipped by the build and notes read with a problem (bad lines, a guessed encoding, empty), and why",
    )
    detail: str | None = Field(None, description="With status no_index: what is wrong and how to build the index")
    error: str | None = Field(None, description="With status no_index: IndexNotBuilt or IndexCorrupt")


Answer.model_rebuild()
