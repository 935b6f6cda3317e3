"""Latency of the MCP `search` tool against `GET /search`, on one `kb serve`, in the same run, same questions.

usage: python bench/mcp_bench.py [--index DIR] [--rounds 5] [--k 10]

Starts `kb serve` over the index (default KB_INDEX_DIR or data/index) on a free loopback port with the real model,
warms it up, then asks each question of kb.testing.LOAD_QUESTIONS `--rounds` times, one at a time, four ways, the
ways interleaved question by question so that a busy machine slows them alike:

  GET /search               httpx, keep-alive
  POST /mcp (JSON-RPC)      the same search as one `tools/call` request, hand-written JSON-RPC over httpx
  MCP client, HTTP          the SDK's Client (one connection) calling `search` at /mcp
  MCP client, stdio         the SDK's Client calling `search` on `kb mcp` (its own process, same index)

It prints p50, p95 and mean in ms for each, and what the MCP layer adds over GET /search at the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from kb.config import get_settings  # noqa: E402
from kb.testing import LOAD_QUESTIONS, free_port, kb_command, running, serve_command, server_env, wait_http  # noqa: E402


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name:24} n={len(samples):3}  p50 {statistics.median(samples):7.1f}  p95 {p95:7.1f}  mean {statistics.fmean(samples):7.1f} ms"


async def measure(base_url: str, index_dir: Path, rounds: int, k: int) -> dict[str, list[float]]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    questions = [q for _ in range(rounds) for q in LOAD_QUESTIONS]
    times: dict[str, list[float]] = {"GET /search": [], "POST /mcp (JSON-RPC)": [], "MCP client, HTTP": [], "MCP client, stdio": []}
    command = kb_command()
    stdio = StdioServerParameters(
        command=command[0], args=[*command[1:], "mcp", "--index", str(index_dir)], env=server_env(), cwd=str(PROJECT)
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http, Client(f"{base_url}/mcp") as over_http, Client(
        stdio, read_timeout_seconds=180
    ) as over_stdio:
        for warm in LOAD_QUESTIONS[:3]:
            await http.get("/search", params={"q": warm, "k": k})
            await over_http.call_tool("search", {"query": warm, "k": k})
            await over_stdio.call_tool("search", {"query": warm, "k": k})
        headers = {
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": over_http.protocol_version,
            "mcp-method": "tools/call",
            "mcp-name": "search",
        }
        # A stateless request of this protocol version names the version and the client's capabilities itself.
        envelope = {
            "io.modelcontextprotocol/protocolVersion": over_http.protocol_version,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        for n, question in enumerate(questions):
            started = time.perf_counter()
            response = await http.get("/search", params={"q": question, "k": k})
            times["GET /search"].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text

            params = {"name": "search", "arguments": {"query": question, "k": k}, "_meta": envelope}
            body = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}
            started = time.perf_counter()
            response = await http.post("/mcp", json=body, headers=headers)
            times["POST /mcp (JSON-RPC)"].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and "result" in response.json(), response.text

            for name, client in (("MCP client, HTTP", over_http), ("MCP client, stdio", over_stdio)):
                started = time.perf_counter()
                result = await client.call_tool("search", {"query": question, "k": k})
                times[name].append((time.perf_counter() - started) * 1000)
                assert not result.is_error, result
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=None, help="Index directory (default KB_INDEX_DIR or data/index).")
    parser.add_argument("--rounds", type=int, default=5, help="Times each question is asked each way.")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    index_dir = (args.index or get_settings().index_dir).resolve()
    if not (index_dir / "manifest.json").exists():
        sys.exit(f"no index at {index_dir}: build it with `kb ingest` (or pass --index)")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with running(serve_command(index_dir, port), log, server_env(), cwd=PROJECT) as process:
            wait_http(f"{base_url}/health", 180, process, log)
            times = anyio.run(measure, base_url, index_dir, args.rounds, args.k)
    print(f"search, k={args.k}, {len(LOAD_QUESTIONS)} questions x {args.rounds} rounds, one request at a time, index {index_dir}")
    for name, samples in times.items():
        print(summary(name, samples))
    base = statistics.median(times["GET /search"])
    for name in list(times)[1:]:
        print(f"{name} adds {statistics.median(times[name]) - base:+.1f} ms at the median over GET /search")


if __name__ == "__main__":
    main()
