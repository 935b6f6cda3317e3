"""Request bodies and the few response envelopes the API adds around kb.models (which it returns as they are)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kb.models import Chunk, FileProblem, FileSummary, IndexHealth, ServiceInfo  # noqa: F401 (FileSummary: Health's files)

SQS_QUESTION = "How long does SQS keep messages?"


class AskRequest(BaseModel):
    """A question in plain words; the answer quotes the notes and cites every sentence to its lines."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": SQS_QUESTION}, {"question": "What is a FIFO queue?", "k": 5, "service": "sqs"}]}
    )

    question: str = Field(description="The question, at most KB_MAX_QUERY_CHARS (1000) characters")
    k: int = Field(5, description="How many passages to draw the answer from, 1..KB_MAX_K (50)")
    service: str | None = Field(None, description="Only passages about this service (catalogue id, name or alias)")


class NoteText(BaseModel):
    """A whole note file as the index read it: `lines[n - 1]` is the line that citations call file:n."""

    file: str
    lines: list[str]


class ServiceList(BaseModel):
    services: list[ServiceInfo]


class FilePassages(BaseModel):
    file: str = Field(description="A note file name, as the citations name it")
    passages: list[Chunk] = Field(description="In line order")


class ServiceDetail(BaseModel):
    service: ServiceInfo
    files: list[FilePassages]


class Health(IndexHealth):
    """What is serving: the build, its model and files; or, with status "no_index", why nothing is."""

    # The facade's IndexHealth under the name the OpenAPI schema has always given it, and where the server keeps
    # the vectors (a load balancer's health check or an operator can tell replicas on different stores apart).
    backend: str | None = Field(None, description="Where the vectors and the lexical index are kept: faiss (files in the index folder) or milvus")
    backend_uri: str | None = Field(None, description="With the milvus backend: the Milvus Lite file or the server's URI, without credentials")


class ErrorBody(BaseModel):
    """The body of every error response; some errors add details (UnknownService adds `suggestions`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "detail": "Unknown service 'simple queue servise'. Did you mean: sqs, ses?",
                    "error": "UnknownService",
                    "suggestions": ["sqs", "ses"],
                }
            ]
        },
    )

    detail: str = Field(description="A readable message, safe to show to a user")
    error: str = Field(description="The kind of error: BadQuery, UnknownService, NotFound, IndexNotBuilt, InternalError...")


class BuildSummary(BaseModel):
    """What a finished rebuild did (the same figures `kb ingest --json` prints)."""

    build_id: str
    index_dir: str
    files: int
    sections: int
    chunks: int
    lines: int
    reembedded: int = Field(description="Texts embedded by this build (the others were reused from the previous one)")
    reused: int
    seconds: float
    problems: list[FileProblem] = Field(default_factory=list, description="Note files skipped, and why")


class ReindexJob(BaseModel):
    """One rebuild started by POST /admin/reindex: its progress while it runs, then its result or why it failed."""

    job_id: str
    state: Literal["running", "succeeded", "failed"]
    stage: str = Field(description="starting, reading, embedding, loading (the new build into the server) or done")
    done: int = Field(0, description="Items of the stage done so far")
    total: int = Field(0, description="Items of the stage in all (0 when unknown)")
    started_at: str
    finished_at: str | None = None
    seconds: float | None = None
    result: BuildSummary | None = Field(None, description="When the build finished: what it did")
    error: str | None = Field(None, description="When it failed: why. The previous index keeps serving")


class ReindexStatus(BaseModel):
    """The rebuild running now (if any), the last one that finished, and the build the server answers from."""

    running: ReindexJob | None = None
    last: ReindexJob | None = None
    serving_build_id: str | None = Field(None, description="The index build answering requests now")
