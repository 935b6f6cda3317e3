"""The `kb` command line: ingest, inspect, search, evaluate, serve.

The one part of kb/ that reaches the front ends: `kb ingest` runs ingest/, `kb serve` and `kb mcp` the API, `kb ui`
Streamlit. It imports them inside the commands that need them, so the library itself never does, and `kb --help`
starts fast. Each module below registers its commands on the one Typer app, in the order `kb --help` lists them.
"""

import os
import sys

from kb.cli import build, common, query, serve  # noqa: F401  (registers the commands)
from kb.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """The `kb` console script: the Typer app; then, after a command that loaded the index and the model in this
    process, an exit without the interpreter's teardown. Freeing them takes 0.4 s, a fifth of a cold `kb ask`, and
    nothing is left to write by then."""
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code
    if common.loaded_here and isinstance(code, int):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
