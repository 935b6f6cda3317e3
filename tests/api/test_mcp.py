"""The MCP server with the SDK's real client: over HTTP at /mcp (uvicorn in a thread, the small index) and over
stdio (`kb mcp` as a child process, the real index of the shipped notes)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from kb.testing import kb_command, server_env
from tests.api.conftest import note_lines
from tests.conftest import PROJECT_ROOT, SHIPPED_NOTES

TOOLS = {"search", "ask", "compare", "list_services", "get_passage"}
KEY = "mcp-test-key-1"


def run_client(target: Any, session: Callable[[Any], Awaitable[Any]], headers: dict[str, str] | None = None) -> Any:
    """Connect the SDK's Client to an /mcp URL (sending `headers`) or a stdio server, run `session(client)`."""
    from mcp import Client

    async def main() -> Any:
        if isinstance(target, str):
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            async with httpx2.AsyncClient(headers=headers or {}, timeout=60) as http:
                async with Client(streamable_http_client(target, http_client=http)) as client:
                    return await session(client)
        async with Client(target, read_timeout_seconds=120) as client:
            return await session(client)

    return anyio.run(main)


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def test_http_lists_the_tools_and_each_returns_the_apis_json_with_cited_text(api_server: str, small_index) -> None:
    notes_dir, _ = small_index
    api = httpx.Client(base_url=api_server, timeout=30)

    async def session(client: Any) -> dict[str, Any]:
        tools = (await client.list_tools()).tools
        search = await client.call_tool("search", {"query": "How long does SQS keep messages?", "k": 3})
        passage_id = search.structured_content["results"][0]["id"]
        return {
            "tools": tools,
            "search": search,
            "ask": await client.call_tool("ask", {"question": "How long does SQS keep messages?"}),
            "compare": await client.call_tool("compare", {"services": ["SQS", "SNS"], "aspects": ["retention"]}),
            "list_services": await client.call_tool("list_services", {}),
            "get_passage": await client.call_tool("get_passage", {"id": passage_id, "context": 1}),
            "resources": (await client.list_resources()).resources,
            "note": await client.read_resource("note://queues.md"),
        }

    got = run_client(f"{api_server}/mcp", session)

    by_name = {tool.name: tool for tool in got["tools"]}
    assert set(by_name) == TOOLS
    for tool in by_name.values():
        assert tool.output_schema and tool.annotations.read_only_hint, tool.name
        if tool.name != "list_services":  # the one tool that returns no claim from the notes
            assert "line" in tool.description, f"{tool.name}: the description must say that claims carry their lines"
    assert set(by_name["search"].input_schema["properties"]) == {"query", "k", "service"}
    assert by_name["search"].input_schema["required"] == ["query"]
    assert set(by_name["get_passage"].input_schema["properties"]) == {"id", "context"}
    assert set(by_name["compare"].input_schema["properties"]) == {"services", "aspects"}

    # Structured content is exactly what the API's routes return for the same request.
    search = got["search"]
    assert not search.is_error
    assert search.structured_content == api.get("/search", params={"q": "How long does SQS keep messages?", "k": 3}).json()
    first = search.structured_content["results"][0]
    assert first["text"] == note_lines(notes_dir, first["file"], first["start_line"], first["end_line"])
    assert f"[1] {first['file']}:{first['start_line']}-{first['end_line']}" in text_of(search)

    ask = got["ask"]
    assert ask.structured_content == api.post("/ask", json={"question": "How long does SQS keep messages?"}).json()
    if ask.structured_content["abstained"]:
        assert text_of(ask).startswith("The notes do not cover this.")
    else:
        for citation in ask.structured_content["citations"]:
            assert f"[{citation['n']}] {citation['file']}:{citation['start_line']}" in text_of(ask)

    compare = got["compare"]
    assert compare.structured_content == api.post("/compare", json={"services": ["SQS", "SNS"], "aspects": ["retention"]}).json()
    assert text_of(compare).startswith("| aspect | SQS | SNS |")
    assert "queues.md:6" in text_of(compare)

    services = got["list_services"].structured_content["services"]
    assert services == api.get("/services").json()["services"]
    assert "sqs — SQS (" in text_of(got["list_services"])

    passage = got["get_passage"]
    assert passage.structured_content == api.get(f"/passages/{first['id']}", params={"context": 1}).json()
    assert f"> {first['start_line']:>5} | " in text_of(passage)

    uris = {str(resource.uri) for resource in got["resources"]}
    assert uris == {"note://queues.md", "note://storage.md"}
    assert got["note"].contents[0].text == (notes_dir / "queues.md").read_text(encoding="utf-8")


def test_http_errors_are_tool_errors_with_the_apis_messages(api_server: str) -> None:
    api = httpx.Client(base_url=api_server, timeout=30)

    async def session(client: Any) -> dict[str, Any]:
        return {
            "empty": await client.call_tool("search", {"query": "   "}),
            "unknown": await client.call_tool("ask", {"question": "retention", "service": "simple queue servise"}),
            "one": await client.call_tool("compare", {"services": ["SQS"]}),
            "k": await client.call_tool("search", {"query": "sqs", "k": 0}),
            "passage": await client.call_tool("get_passage", {"id": "nope"}),
            "context": await client.call_tool("get_passage", {"id": "nope", "context": 21}),
        }

    got = run_client(f"{api_server}/mcp", session)
    expected = {
        "empty": api.get("/search", params={"q": "   "}),
        "unknown": api.post("/ask", json={"question": "retention", "service": "simple queue servise"}),
        "one": api.post("/compare", json={"services": ["SQS"]}),
        "k": api.get("/search", params={"q": "sqs", "k": 0}),
        "passage": api.get("/passages/nope"),
    }
    for name, response in expected.items():
        assert response.status_code in (404, 422), name
        assert got[name].is_error, name
        assert text_of(got[name]) == response.json()["detail"], name
        assert got[name].structured_content == response.json(), name
    assert got["unknown"].structured_content["suggestions"]
    assert got["context"].is_error and text_of(got["context"]) == "context must be between 0 and 20 lines, got 21."


@pytest.mark.api_settings(api_keys=KEY, rate_limit_per_minute=1000)
def test_http_with_api_keys_refuses_a_client_without_one(api_server: str) -> None:
    async def tools(client: Any) -> set[str]:
        return {tool.name for tool in (await client.list_tools()).tools}

    from mcp.shared.exceptions import MCPError

    for headers in ({}, {"X-API-Key": "wrong"}):
        # The SDK's client reports the refused connection as an MCPError (inside anyio's exception groups).
        with pytest.raises(BaseException) as refused:
            run_client(f"{api_server}/mcp", tools, headers=headers)
        assert any(isinstance(exc, MCPError) for exc in leaves(refused.value)), repr(refused.value)
    response = httpx.post(f"{api_server}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized" and "X-API-Key" in response.json()["detail"]
    assert run_client(f"{api_server}/mcp", tools, headers={"X-API-Key": KEY}) == TOOLS
    assert run_client(f"{api_server}/mcp", tools, headers={"Authorization": f"Bearer {KEY}"}) == TOOLS


@pytest.mark.api_settings(rate_limit_per_minute=2)
def test_http_mcp_shares_the_rate_limit(api_server: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    statuses = [httpx.post(f"{api_server}/mcp", json=body).status_code for _ in range(3)]
    assert statuses[2] == 429
    assert httpx.get(f"{api_server}/services").status_code == 429  # one budget for the client, /mcp and routes alike


def stdio_server(index_dir: Path) -> Any:
    """`kb mcp --index DIR` as a desktop assistant would start it (no KB_ variables, offline)."""
    from mcp.client.stdio import StdioServerParameters

    command = kb_command()
    return StdioServerParameters(
        command=command[0], args=[*command[1:], "mcp", "--index", str(index_dir)], env=server_env(), cwd=str(PROJECT_ROOT)
    )


def shipped_lines(name: str, start_line: int, end_line: int) -> str:
    return "\n".join((SHIPPED_NOTES / name).read_bytes().decode("utf-8-sig").splitlines()[start_line - 1 : end_line])


@pytest.mark.slow
def test_stdio_serves_every_tool_over_the_shipped_notes(real_index_dir: Path, figures: dict[str, str]) -> None:
    question = "How long does SQS keep messages?"

    async def session(client: Any) -> dict[str, Any]:
        started = time.perf_counter()
        search = await client.call_tool("search", {"query": question, "k": 5, "service": "sqs"})
        figures["MCP search over stdio (first call)"] = f"{(time.perf_counter() - started) * 1000:.0f} ms"
        first = search.structured_content["results"][0]
        return {
            "tools": {tool.name for tool in (await client.list_tools()).tools},
            "search": search,
            "ask": await client.call_tool("ask", {"question": question}),
            "compare": await client.call_tool("compare", {"services": ["SQS", "SNS", "Kinesis"], "aspects": ["retention"]}),
            "list_services": await client.call_tool("list_services", {}),
            "get_passage": await client.call_tool("get_passage", {"id": first["id"], "context": 2}),
            "unknown": await client.call_tool("compare", {"services": ["SQS", "nosuchservice"]}),
            "empty": await client.call_tool("ask", {"question": ""}),
            "resources": {str(r.uri) for r in (await client.list_resources()).resources},
            "note": await client.read_resource("note://aws-developer-notes.md"),
        }

    got = run_client(stdio_server(real_index_dir), session)

    assert got["tools"] == TOOLS
    for hit in got["search"].structured_content["results"]:
        assert "sqs" in hit["service"]
        assert hit["text"] == shipped_lines(hit["file"], hit["start_line"], hit["end_line"])
        assert f"{hit['file']}:{hit['start_line']}-{hit['end_line']}" in text_of(got["search"])

    answer = got["ask"].structured_content
    assert not answer["abstained"] and "14 days" in answer["answer"]
    for citation in answer["citations"]:
        assert citation["quote"] in shipped_lines(citation["file"], citation["start_line"], citation["end_line"])
        assert f"[{citation['n']}] {citation['file']}:{citation['start_line']}" in text_of(got["ask"])

    table = got["compare"].structured_content
    assert table["aspects"] == ["retention"] and len(table["cells"]) == 3
    retention = next(cell for cell in table["cells"] if cell["service"] == "SQS")
    assert retention["status"] != "not_in_notes" and retention["citations"]

    assert "sqs" in {s["id"] for s in got["list_services"].structured_content["services"]}
    context = got["get_passage"].structured_content
    assert len(context["before"]) == 2 and len(context["after"]) <= 2

    assert got["unknown"].is_error and text_of(got["unknown"]).startswith("Unknown service 'nosuchservice'.")
    assert got["unknown"].structured_content["error"] == "UnknownService"
    assert got["empty"].is_error and text_of(got["empty"]) == "The query is empty: type a question or some keywords."

    assert got["resources"] == {f"note://{path.name}" for path in SHIPPED_NOTES.iterdir()}
    # Line n of the resource is line n of the file, the line that citations call aws-developer-notes.md:n.
    shipped = (SHIPPED_NOTES / "aws-developer-notes.md").read_bytes().decode("utf-8-sig").splitlines()
    assert got["note"].contents[0].text.splitlines() == shipped


def test_stdio_without_an_index_answers_each_tool_with_how_to_build_it(tmp_path: Path) -> None:
    async def session(client: Any) -> list[Any]:
        return [
            await client.call_tool("search", {"query": "sqs"}),
            await client.call_tool("list_services", {}),
        ]

    for result in run_client(stdio_server(tmp_path / "no-index"), session):
        assert result.is_error
        assert result.structured_content["error"] == "IndexNotBuilt"
        assert "kb ingest" in text_of(result)
