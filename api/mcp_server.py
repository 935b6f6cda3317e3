"""The notes as an MCP server: five tools over the KnowledgeBase facade and each note file as a resource.

One server definition, two transports: `kb mcp` runs it over stdio (desktop assistants start it as a child
process), and the API mounts it as streamable HTTP at /mcp (api/mcp.py), behind the same keys and limits.
Each tool calls the facade as the matching API route does and returns the API's JSON model as structured
content, plus a short text rendering in which every claim carries its `file:line`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from api.errors import ApiError, error_body
from api.limits import ModelSlots
from api.routes.services import MAX_CONTEXT_LINES
from api.schemas import ServiceList
from api.serving import Serving
from kb.config import Settings
from kb.errors import KBError, NotFound
from kb.models import Answer, ComparisonTable, Hit, PassageContext, SearchResult

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

SERVER_NAME = "notes-kb"
NOTE_SCHEME = "note://"
SNIPPET_CHARS = 320
INSTRUCTIONS = (
    "notes-kb answers from the user's own AWS study notes, never from general knowledge. Every passage, answer "
    "sentence and comparison cell it returns carries the note file and line numbers it stands on (`file:line`): "
    "cite them when you repeat a claim. When `ask` says the notes do not cover a question, tell the user so "
    "rather than answering from memory. Each note file can also be read whole as the resource note://<file>."
)

SEARCH_DESCRIPTION = """Find the passages of the user's AWS study notes that best match a query, best first.

Returns up to k passages (structured: `results`, each with `id`, `file`, `start_line`, `end_line`, `heading_path`,
`service`, `text`, `score`). Each passage is exactly lines start_line..end_line of `file`, so every claim you draw
from it carries its lines: cite them as file:line.
Use it to gather material yourself, to see everything the notes say on a topic, or when `ask` gave too little.
Prefer `ask` for a direct question that wants a short answer. Pass `service` to keep only passages about one service."""

ASK_DESCRIPTION = """Answer a question from the user's AWS study notes with 1-4 sentences quoted verbatim from them.

Returns the answer with [n] markers; each citation n gives the `file`, `start_line`-`end_line`, the exact `quote`
and its `context` (the heading it sits under). When the notes do not cover the question, `abstained` is true and
the nearest passages are listed: tell the user the notes do not say, do not answer from memory.
Use it first for a plain question ("How long does SQS keep messages?"). Use `compare` to set services side by
side, `search` to read more passages."""

COMPARE_DESCRIPTION = """Compare 2 to 6 AWS services side by side from the user's notes, one cell per service and aspect.

Returns a table (structured: `services`, `aspects`, `cells`); each cell has a `value` quoted from the notes with
`citations` (file, lines, quote), or status `not_in_notes` (the notes are silent: say so, do not guess), or
`conflict` when two notes disagree (`conflict_reason` says how). The text is a markdown table with numbered
file:line sources. Use it for "X vs Y" or "which should I use" questions. `aspects` are plain words
("retention", "ordering", "max message size"); leave them out for the usual set for those services."""

LIST_SERVICES_DESCRIPTION = """List the AWS services the user's notes talk about, with how many passages mention each.

Returns `services`, each with `id` (what the `service` and `services` arguments of the other tools accept, as do
names and aliases), `name`, `full_name`, `aliases`, `category` and `chunk_count`. Use it to learn what the notes
cover or to find the exact name of a service before filtering or comparing."""

GET_PASSAGE_DESCRIPTION = """Read one passage of the notes by its id, with `context` lines of its file before and after it.

Returns the passage (its `file`, `start_line`, `end_line`, `text`) and the lines around it (`before`, from
`before_start_line`; `after`, up to `after_end_line`); the text shows every line with its number. Use it to read
around a citation or a search result (ids come from `search`, `ask` and `compare`). Ids change when the note they
come from is edited and re-indexed: search again if one is not found."""

ToolResult = TypeVar("ToolResult")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def location(file: str, start_line: int, end_line: int | None = None) -> str:
    """`file:12`, or `file:12-15` for a span."""
    return f"{file}:{start_line}" if end_line in (None, start_line) else f"{file}:{start_line}-{end_line}"


def _one_line(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _hit_lines(rank: int, hit: Hit) -> list[str]:
    trail = " › ".join(hit.heading_path)
    return [f"[{rank}] {location(hit.file, hit.start_line, hit.end_line)}" + (f" · {trail}" if trail else ""), f"    {_one_line(hit.text)}"]


def search_text(result: SearchResult) -> str:
    """The passages, each headed by its file:lines and heading path."""
    if not result.results:
        return f'Nothing in the notes matches "{result.query}".'
    lines = [f'{len(result.results)} passages for "{result.query}", best first (id in the structured content):']
    for rank, hit in enumerate(result.results, 1):
        lines += _hit_lines(rank, hit)
    return "\n".join(lines)


def ask_text(answer: Answer) -> str:
    """The answer, then each citation as `[n] file:line — context: “quote”`; an abstention names the nearest passages."""
    if answer.abstained:
        lines = [f"The notes do not cover this. {answer.answer}".strip(), "", "Nearest passages (not an answer):"]
        for rank, hit in enumerate(answer.passages[:5], 1):
            lines += _hit_lines(rank, hit)
        return "\n".join(lines)
    lines = [answer.answer.strip(), "", "Sources:"]
    for citation in sorted(answer.citations, key=lambda c: c.n):
        context = f"{citation.context}: " if citation.context else ""
        lines.append(f"[{citation.n}] {location(citation.file, citation.start_line, citation.end_line)} — {context}“{_one_line(citation.quote)}”")
    return "\n".join(lines)


def compare_text(table: ComparisonTable) -> str:
    """The table as markdown with numbered file:line sources under it (the same text as GET /compare/export)."""
    from kb.compare.export import to_markdown

    return to_markdown(table)


def services_text(services: ServiceList) -> str:
    """One line a service: id, name, full name, category and passage count."""
    lines = [f"{len(services.services)} services in the notes (id — name, category, passages):"]
    for s in services.services:
        lines.append(f"{s.id} — {s.name} ({s.full_name}), {s.category or 'other'}, {s.chunk_count} passages")
    return "\n".join(lines)


def passage_text(context: PassageContext) -> str:
    """Every line with its number; the passage's own lines marked with `>`."""
    passage = context.passage
    trail = " › ".join(passage.heading_path)
    head = f"{location(passage.file, passage.start_line, passage.end_line)}" + (f" · {trail}" if trail else "")
    rows = [head]
    rows += [f"  {context.before_start_line + i:>5} | {line}" for i, line in enumerate(context.before)]
    rows += [f"> {passage.start_line + i:>5} | {line}" for i, line in enumerate(passage.text.split("\n"))]
    rows += [f"  {passage.end_line + 1 + i:>5} | {line}" for i, line in enumerate(context.after)]
    return "\n".join(rows)


def tool_result(model: BaseModel, text: str, exclude_none: bool = False) -> CallToolResult:
    """The API's JSON model as structured content, and its text rendering for the language model to read."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=model.model_dump(mode="json", exclude_none=exclude_none)
    )


def error_result(message: str, error: str, **details: Any) -> CallToolResult:
    """A tool error carrying the API's message as its text and the API's error body as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=message)], structured_content=error_body(message, error, **details), is_error=True
    )


class NotesTools:
    """The tools' bodies: the facade called as the API routes call it, KBErrors turned into MCP tool errors."""

    def __init__(self, serving: Serving, slots: ModelSlots) -> None:
        self.serving = serving
        self.slots = slots

    async def knowledge_base(self) -> "KnowledgeBase":
        knowledge_base = self.serving.ready()
        return knowledge_base if knowledge_base is not None else await anyio.to_thread.run_sync(self.serving.current)

    async def run(self, body: Callable[["KnowledgeBase"], Awaitable[CallToolResult]]) -> CallToolResult:
        """Run a tool body on the served KnowledgeBase; a KBError (or a model that stayed busy) becomes a tool error."""
        try:
            return await body(await self.knowledge_base())
        except KBError as exc:
            return error_result(exc.message, type(exc).__name__, **exc.details)
        except ApiError as exc:
            return error_result(str(exc.detail), exc.error)

    async def in_thread(self, work: Callable[[], ToolResult], *, model: bool) -> ToolResult:
        """`work` in a worker thread; in a model slot when it embeds text, as the API's routes do."""
        if not model:
            return await anyio.to_thread.run_sync(work)
        async with self.slots.hold():
            return await anyio.to_thread.run_sync(work)

    async def search(self, query: str, k: int, service: str | None) -> CallToolResult:
        async def body(kb: "KnowledgeBase") -> CallToolResult:
            result = await self.in_thread(lambda: kb.search(query, k=k, service=service), model=True)
            return tool_result(result, search_text(result))

        return await self.run(body)

    async def ask(self, question: str, service: str | None) -> CallToolResult:
        async def body(kb: "KnowledgeBase") -> CallToolResult:
            # As POST /ask: the model slot covers the extractive answer only; a language model (KB_LLM_URL) then
            # rewrites it over the network without holding a slot.
            answer = await self.in_thread(lambda: kb.ask(question, service=service, generate=False), model=True)
            if kb.settings.llm_url and not answer.abstained:
                answer = await anyio.to_thread.run_sync(kb.write_answer, answer)
            return tool_result(answer, ask_text(answer))

        return await self.run(body)

    async def compare(self, services: list[str], aspects: list[str] | None) -> CallToolResult:
        async def body(kb: "KnowledgeBase") -> CallToolResult:
            table = await self.in_thread(lambda: kb.compare(services, aspects), model=True)
            return tool_result(table, compare_text(table), exclude_none=True)

        return await self.run(body)

    async def list_services(self) -> CallToolResult:
        async def body(kb: "KnowledgeBase") -> CallToolResult:
            services = await self.in_thread(lambda: ServiceList(services=kb.services()), model=False)
            return tool_result(services, services_text(services))

        return await self.run(body)

    async def get_passage(self, passage_id: str, context: int) -> CallToolResult:
        async def body(kb: "KnowledgeBase") -> CallToolResult:
            passage = await self.in_thread(lambda: kb.passage(passage_id, context=context), model=False)
            return tool_result(passage, passage_text(passage))

        return await self.run(body)

    async def note_resources(self) -> list[Resource]:
        """Every note file of the serving index as `note://<file>`; none while no index is loaded."""
        try:
            knowledge_base = await self.knowledge_base()
        except KBError:
            return []
        files = knowledge_base.manifest.files
        return [
            Resource(
                uri=f"{NOTE_SCHEME}{name}",
                name=name,
                title=name,
                description=f"The note file {name} as it is on disk ({info.chunks if info.chunks is not None else '?'} passages); line n of "
                "the text is the line that citations call file:n.",
                mime_type=_mime_type(name),
            )
            for name, info in sorted(files.items())
        ]

    async def read_note(self, file: str) -> str:
        try:
            knowledge_base = await self.knowledge_base()
            lines = await anyio.to_thread.run_sync(knowledge_base.file_lines, file)
        except NotFound as exc:
            raise ResourceNotFoundError(exc.message) from None
        except KBError as exc:
            raise ResourceError(exc.message) from None
        return "\n".join(lines) + "\n"


def _mime_type(file: str) -> str:
    return "text/markdown" if file.lower().endswith((".md", ".markdown")) else "text/plain"


class NotesMCPServer(MCPServer):
    """MCPServer whose resource list is the note files of the index serving now (it follows `kb ingest`)."""

    def __init__(self, tools: NotesTools, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notes = tools

    async def list_resources(self) -> list[Resource]:
        return [*await super().list_resources(), *await self.notes.note_resources()]


Query = Annotated[str, Field(description="A question or keywords in plain words (at most 1000 characters)")]
Service = Annotated[
    str | None, Field(description="Only passages about this service: a catalogue id, name or alias (list_services)")
]


def build_mcp_server(serving: Serving, slots: ModelSlots, version: str = "") -> MCPServer:
    """The notes-kb MCP server over a Serving holder: five read-only tools and a note:// resource per file."""
    tools = NotesTools(serving, slots)
    server = NotesMCPServer(tools, name=SERVER_NAME, version=version, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(name="search", title="Search the notes", description=SEARCH_DESCRIPTION, annotations=READ_ONLY)
    async def search(
        query: Query,
        k: Annotated[int, Field(description="How many passages, 1 to 50")] = 10,
        service: Service = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        return await tools.search(query, k, service)

    @server.tool(name="ask", title="Answer from the notes", description=ASK_DESCRIPTION, annotations=READ_ONLY)
    async def ask(
        question: Annotated[str, Field(description="The question in plain words (at most 1000 characters)")],
        service: Service = None,
    ) -> Annotated[CallToolResult, Answer]:
        return await tools.ask(question, service)

    @server.tool(name="compare", title="Compare services", description=COMPARE_DESCRIPTION, annotations=READ_ONLY)
    async def compare(
        services: Annotated[list[str], Field(description="2 to 6 services by id, name or alias, e.g. [\"SQS\", \"SNS\"]")],
        aspects: Annotated[
            list[str] | None, Field(description="Up to 12 aspects in plain words; leave out for the usual set")
        ] = None,
    ) -> Annotated[CallToolResult, ComparisonTable]:
        return await tools.compare(services, aspects)

    @server.tool(name="list_services", title="Services in the notes", description=LIST_SERVICES_DESCRIPTION, annotations=READ_ONLY)
    async def list_services() -> Annotated[CallToolResult, ServiceList]:
        return await tools.list_services()

    @server.tool(name="get_passage", title="Read a passage", description=GET_PASSAGE_DESCRIPTION, annotations=READ_ONLY)
    async def get_passage(
        id: Annotated[str, Field(description="A passage id from search, ask or compare")],
        context: Annotated[int, Field(description="Lines of the file to add before and after it, 0 to 20")] = 0,
    ) -> Annotated[CallToolResult, PassageContext]:
        if not 0 <= context <= MAX_CONTEXT_LINES:
            # The same bound, and words, as GET /passages/{id}?context=.
            return error_result(f"context must be between 0 and {MAX_CONTEXT_LINES} lines, got {context}.", "BadQuery")
        return await tools.get_passage(id, context)

    @server.resource(
        NOTE_SCHEME + "{file}",
        name="note",
        title="A note file",
        description="A whole note file, read-only; its line n is what citations call file:n.",
        mime_type="text/plain",
    )
    async def note(file: str) -> str:
        return await tools.read_note(file)

    return server



def run_stdio(settings: Settings) -> None:
    """Serve the MCP server over stdin/stdout until the client closes it (`kb mcp`)."""
    from api.app import _version

    serving = Serving(settings)
    # stdout carries the protocol: whatever loading prints goes to stderr. A missing index is not fatal here:
    # every tool then answers with the error saying how to build it, and a later `kb ingest` is picked up.
    with contextlib.redirect_stdout(sys.stderr):
        serving.load()
    server = build_mcp_server(serving, ModelSlots(settings.model_concurrency, settings.request_timeout_s), _version())
    server.run("stdio")
