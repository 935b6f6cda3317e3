"""What every `kb` command shares: the Typer app, the consoles, exit codes, settings, the index and a running server."""

import json
import sys
from pathlib import Path
from typing import Any, Callable

import typer
from rich.console import Console

from kb.config import get_settings
from kb.errors import KBError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="notes-kb: search your study notes, cited to the line.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Exit codes, the same for every command: 0 done (every note read in full); 1 done, but a file was skipped or
# some of its lines could not be decoded (ingest, chunks); 2 bad usage (a bad option value, a folder that is a
# file, an empty query, an unknown service); 3 failure (no index, a damaged index, another rebuild running).
EXIT_SKIPPED = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


class BadUsage(KBError):
    """A command line that cannot be run as given (exit code 2)."""


def fail(exc: KBError) -> None:
    from kb.errors import BadQuery, UnknownService

    err.print(f"[red]error:[/red] {exc.message}", highlight=False)
    raise typer.Exit(EXIT_USAGE if isinstance(exc, (BadQuery, UnknownService, BadUsage)) else EXIT_FAILED)


def settings_for(notes: Path | None = None, index: Path | None = None):
    settings = get_settings()
    update = {k: v for k, v in {"notes_dir": notes, "index_dir": index}.items() if v is not None}
    return settings.model_copy(update=update) if update else settings


# True once a command has loaded the index in this process (see kb.cli.main).
loaded_here = False


def knowledge_base(index: Path | None = None):
    import threading

    from kb.embedder import get_embedder, warm

    settings = settings_for(index=index)
    # The model takes longest to load (its ONNX session: half a second, mostly outside the interpreter's lock), so
    # it starts before the rest of the library is imported (a fifth of a second of a cold `kb ask`).
    threading.Thread(target=lambda: warm(get_embedder(settings)), daemon=True).start()
    from kb.core import KnowledgeBase

    global loaded_here
    knowledge_base = KnowledgeBase(settings)
    loaded_here = True
    return knowledge_base


def given_or_setting(ctx: typer.Context, option: str, setting: str, index: Path | None) -> Any:
    """The option's value when given on the command line, else the setting's: --help shows the default as written,
    and a KB_ variable may set another."""
    # By name: typer carries its own copy of click, whose ParameterSource is not click's.
    if getattr(ctx.get_parameter_source(option), "name", None) == "DEFAULT":
        return getattr(settings_for(index=index), setting)
    return ctx.params[option]


def from_server(method: str, path: str, index: Path | None, **request) -> dict | None:
    """The JSON a running `kb serve` at KB_API_URL answers, when it serves the very build of the index this command
    would load (same build id); None otherwise, and the command loads the index itself.

    Asking the server costs milliseconds; loading the index and the model in this process costs seconds.
    Any failure (no server, another build, a key refused, an error status) falls back to the local path,
    which gives the same answer or the same error message.
    """
    from kb.store.manifest import serving_build_id

    settings = settings_for(index=index)
    build_id = serving_build_id(settings.index_dir)
    if build_id is None or not _listening(settings.api_url):
        return None
    import httpx

    keys = [k.strip() for k in settings.api_keys.split(",") if k.strip()]
    headers = {"X-API-Key": keys[0]} if keys else {}
    try:
        with httpx.Client(base_url=settings.api_url, headers=headers, timeout=httpx.Timeout(30.0, connect=0.3)) as client:
            health = client.get("/health", timeout=(0.3, 1.0, 1.0, 1.0))  # connect, read, write, pool
            if health.status_code != 200 or health.json().get("build_id") != build_id:
                return None
            response = client.request(method, path, **request)
    except (httpx.HTTPError, ValueError):
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def served_or_local(model, method: str, path: str, index: Path | None, local: Callable[[], Any], **request):
    """`model` read from a running `kb serve` of the same build (see from_server), else what `local()` computes;
    a KBError ends the command with its message and exit code."""
    served = from_server(method, path, index, **request)
    try:
        return model.model_validate(served) if served is not None else local()
    except KBError as exc:
        fail(exc)


def _listening(url: str) -> bool:
    """True when something accepts connections at the URL's host and port. With no server there, a plain socket
    says so in a millisecond, where importing an HTTP client first costs a third of a second of every cold command."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=0.3):
            return True
    except (OSError, ValueError):
        return False


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_problems(problems) -> None:
    """Every skipped file and problem, one line each, on stderr (the same list on every run)."""
    labels = {"skipped": "[yellow]skipped[/yellow]", "bad_lines": "[yellow]bad lines[/yellow]",
              "warning": "[yellow]warning[/yellow]", "notice": "note"}
    for problem in problems:
        where = f" (line {problem.line})" if problem.line and problem.level != "bad_lines" else ""
        err.print(f"{labels[problem.level]} {problem.file}{where}: {problem.reason}", highlight=False)
