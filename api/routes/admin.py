"""Admin: rebuild the index from the notes while the API keeps serving (needs an admin key; see api.security)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.reindex import Reindexer
from api.routes import error_response
from api.schemas import ReindexJob, ReindexStatus

router = APIRouter(prefix="/admin", tags=["admin"])

BUSY = {409: error_response("A rebuild is already running (here, or `kb ingest` in another process)")}


def _reindexer(request: Request) -> Reindexer:
    return request.app.state.reindexer


@router.post(
    "/reindex",
    response_model=ReindexJob,
    status_code=202,
    summary="Rebuild the index from the notes, in the background",
    responses=BUSY,
)
def start_reindex(request: Request, response: Response) -> ReindexJob:
    """Starts a rebuild of KB_INDEX_DIR from KB_NOTES_DIR and returns at once (202) with the job.

    Only changed passages are re-embedded. The new build is swapped in atomically when complete; requests
    in flight finish on the previous one. If the build fails, the previous index keeps serving and
    `GET /admin/reindex` says why.
    """
    job = _reindexer(request).start()
    response.headers["Location"] = router.url_path_for("reindex_status")  # relative: no Host header echoed back
    return job


@router.get("/reindex", response_model=ReindexStatus, summary="Progress of the running rebuild and the last result")
def reindex_status(request: Request) -> ReindexStatus:
    """The running job's stage and done/total, the last finished job's summary or error, and the serving build."""
    return _reindexer(request).status()
