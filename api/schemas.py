"""Request bodies and the API-only response envelopes; the envelopes a client reads too live in kb.models and are
re-exported here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kb.config import DEFAULTS
from kb.models import BuildSummary, FilePassages, FileSummary, IndexHealth, NoteText, ServiceDetail, ServiceList

__all__ = [
    "AskRequest", "BuildSummary", "ErrorBody", "FilePassages", "FileSummary", "Health", "NoteText", "ReindexJob",
    "ReindexStatus", "ServiceDetail", "ServiceList",
]

SQS_QUESTION = "How long does SQS keep messages?"


class AskRequest(BaseModel):
    """A question in plain words; the answer quotes the notes and cites every sentence to its lines."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": SQS_QUESTION}, {"question": "What is a FIFO queue?", "k": 5, "service": "sqs"}]}
    )

    question: str = Field(description=f"The question, at most KB_MAX_QUERY_CHARS ({DEFAULTS.max_query_chars}) characters")
    k: int = Field(
        DEFAULTS.default_ask_k, description=f"How many passages to draw the answer from, 1..KB_MAX_K ({DEFAULTS.max_k})"
    )
    service: str | None = Field(None, description="Only passages about this service (catalogue id, name or alias)")


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
