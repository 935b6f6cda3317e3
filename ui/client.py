"""The UI's only way to the knowledge base: typed calls to the notes-kb HTTP API over httpx."""

from __future__ import annotations

from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from kb.models import (
    Answer,
    ComparisonTable,
    IndexHealth,
    NoteText,
    PassageContext,
    SearchResult,
    ServiceDetail,
    ServiceInfo,
    ServiceList,
)

# The API preloads the model, but a cold first /ask or a six-service /compare still takes seconds on a CPU: those
# two get SLOW_READ_TIMEOUT_S. Everything else answers in milliseconds, so a page says within 10 s that the API is
# not answering, rather than stay blank.
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
SLOW_READ_TIMEOUT_S = 120.0


class ApiError(Exception):
    """Anything that kept a call from returning its data: the API is down, slow, or refused the request."""

    def __init__(
        self,
        message: str,
        url: str,
        status: int | None = None,
        *,
        error: str | None = None,
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.error = error
        self.suggestions = suggestions or []

    def __str__(self) -> str:
        where = f"HTTP {self.status} from {self.url}" if self.status else f"tried {self.url}"
        return f"{self.message} ({where})"


Shape = TypeVar("Shape", bound=BaseModel)


class ApiClient:
    """Typed methods for each route of the API; every failure is raised as ApiError, never as an httpx error."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = READ_TIMEOUT_S,
        slow_timeout: float = SLOW_READ_TIMEOUT_S,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.slow_timeout = slow_timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_S),
            transport=transport,
            headers={"accept": "application/json", **({"X-API-Key": api_key} if api_key else {})},
        )

    def close(self) -> None:
        self._http.close()

    def health(self) -> IndexHealth:
        """The index the API serves: files, chunks per file, model, build time, skipped files."""
        return self._call(IndexHealth, "GET", "/health")

    def search(self, q: str, k: int | None = None, service: str | None = None) -> SearchResult:
        """The k passages that best match q (no k: the API's default), optionally only those about one service."""
        params: dict[str, Any] = {"q": q}
        if k is not None:
            params["k"] = k
        if service:
            params["service"] = service
        return self._call(SearchResult, "GET", "/search", params=params)

    def ask(self, question: str, k: int | None = None, service: str | None = None) -> Answer:
        """An answer with [n] markers and line-level citations, or an abstention with the nearest passages."""
        body: dict[str, Any] = {"question": question}
        if k is not None:
            body["k"] = k
        if service:
            body["service"] = service
        return self._call(Answer, "POST", "/ask", json=body, timeout=self.slow_timeout)

    def services(self) -> list[ServiceInfo]:
        """The catalogue's services, each with the number of passages about it."""
        return self._call(ServiceList, "GET", "/services").services

    def service(self, service_id: str) -> ServiceDetail:
        """One service and its passages, grouped by note file in line order."""
        return self._call(ServiceDetail, "GET", f"/services/{quote(service_id, safe='')}")

    def passage(self, passage_id: str, context: int | None = None) -> PassageContext:
        """One passage with `context` lines of its note before and after it (no context: the API's default)."""
        params = {"context": context} if context is not None else {}
        return self._call(PassageContext, "GET", f"/passages/{quote(passage_id, safe='')}", params=params)

    def note(self, file: str) -> NoteText:
        """A whole note file, line by line."""
        return self._call(NoteText, "GET", f"/notes/{quote(file, safe='')}")

    def compare(self, services: list[str], aspects: list[str] | None = None) -> ComparisonTable:
        """A table of services by aspects, each cell cited to its lines; no aspects means the server's defaults."""
        body: dict[str, Any] = {"services": services}
        if aspects:
            body["aspects"] = aspects
        return self._call(ComparisonTable, "POST", "/compare", json=body, timeout=self.slow_timeout)

    def export(self, services: list[str], aspects: list[str] | None = None, format: Literal["md", "csv"] = "md") -> str:
        """The comparison table as the API exports it (GET /compare/export): the same text as `kb compare --format`."""
        params: dict[str, Any] = {"services": services, "format": format}
        if aspects:
            params["aspects"] = aspects
        response = self._send("GET", "/compare/export", params=params, timeout=self.slow_timeout)
        return response.text

    def _call(self, model: type[Shape], method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> Shape:
        url, data = self._request(method, path, timeout=timeout, **kwargs)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            raise ApiError(f"The API answered in a shape this UI does not know ({where}: {first.get('msg')}).", url) from None

    def _request(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> tuple[str, Any]:
        response = self._send(method, path, timeout=timeout, **kwargs)
        url = str(response.request.url)
        try:
            return url, response.json()
        except ValueError:
            raise ApiError("The API answered with something that is not JSON.", url, response.status_code) from None

    def _send(self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any) -> httpx.Response:
        """The API's successful response; every failure (no answer, an error status) is raised as ApiError."""
        url = f"{self.base_url}{path}"
        extra = {"timeout": httpx.Timeout(timeout, connect=CONNECT_TIMEOUT_S)} if timeout else {}
        try:
            response = self._http.request(method, path, **kwargs, **extra)
        except httpx.TimeoutException:
            raise ApiError(f"The notes-kb API at {self.base_url} did not answer in time.", url) from None
        except httpx.ConnectError:
            raise ApiError(
                f"Cannot reach the notes-kb API at {self.base_url}. Is it running (`kb serve`), "
                "and does KB_API_URL point at it?",
                url,
            ) from None
        except httpx.HTTPError as exc:
            raise ApiError(f"The request to the notes-kb API at {self.base_url} failed: {exc}", url) from None
        if response.status_code >= 400:
            raise _error_from(response, str(response.request.url))
        return response

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _error_from(response: httpx.Response, url: str) -> ApiError:
    """The API's error JSON ({"detail", "error", "suggestions"...}) as an ApiError; plain text when it is not JSON."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        text = response.text.strip()[:200] or response.reason_phrase
        return ApiError(f"The API answered HTTP {response.status_code}: {text}", url, response.status_code)
    detail = data.get("detail")
    if isinstance(detail, list):  # FastAPI's request-validation errors
        detail = "; ".join(_validation_message(item) for item in detail)
    suggestions = data.get("suggestions") or []
    return ApiError(
        str(detail or response.reason_phrase or f"HTTP {response.status_code}"),
        url,
        response.status_code,
        error=data.get("error"),
        suggestions=[str(s) for s in suggestions] if isinstance(suggestions, list) else [],
    )


def _validation_message(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    where = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    return f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", ""))
