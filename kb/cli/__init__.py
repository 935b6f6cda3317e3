"""The `kb` command line: ingest, inspect, search, evaluate, serve.

The one part of kb/ that reaches the front ends: `kb ingest` runs ingest/, `kb serve` and `kb mcp` the API, `kb ui`
Streamlit. It imports them inside the commands that need them, so the library itself never does, and `kb --help`
starts fast. Each module below registers its commands on the one Typer app, in the order `kb --help` lists them.
"""

from __future__ import annotations

from kb.cli import build, query, serve  # noqa: F401  (registers the commands)
from kb.cli.common import app

__all__ = ["app"]
