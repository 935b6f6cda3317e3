"""`kb serve`, `kb mcp` and `kb ui`: the HTTP API, the MCP server over stdio, and the Streamlit UI."""

import sys
from pathlib import Path
from typing import Optional

import typer

from kb.cli.common import fail, settings_for, app, err
from kb.config import get_settings
from kb.errors import KBError


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Address to listen on (default KB_API_HOST, 127.0.0.1: this machine only)."),
    port: Optional[int] = typer.Option(None, help="Port (default KB_API_PORT, 8000)."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
) -> None:
    """Run the HTTP API (FastAPI + uvicorn, MCP at /mcp); checks the index before it listens."""
    import uvicorn

    from api.app import create_app
    from api.security import exposure_warning

    settings = settings_for(index=index)
    if host:
        settings = settings.model_copy(update={"api_host": host})
    warning = exposure_warning(settings)
    if warning:
        err.print(f"[bold yellow]WARNING:[/bold yellow] {warning}", highlight=False)
    try:
        application = create_app(settings, preload=True)
    except KBError as exc:
        fail(exc)
    # api/logging.py writes one structured line per request; uvicorn's own access line would repeat it.
    uvicorn.run(application, host=settings.api_host, port=port or settings.api_port, log_level="info", access_log=False)


@app.command()
def mcp(index: Optional[Path] = typer.Option(None, help="Index directory.")) -> None:
    """Serve the notes to an MCP client (a desktop assistant) over stdin/stdout: search, ask, compare, list_services, get_passage."""
    from api.mcp_server import run_stdio

    run_stdio(settings_for(index=index))


@app.command()
def ui(
    port: Optional[int] = typer.Option(None, help="Port (default KB_UI_PORT, 8501)."),
    host: Optional[str] = typer.Option(None, help="Address to listen on (default KB_UI_HOST, 127.0.0.1: this machine only)."),
) -> None:
    """Run the Streamlit UI (it talks to the API at KB_API_URL); SIGTERM or Ctrl-C stops Streamlit too."""
    import signal
    import subprocess

    from api.security import is_loopback

    script = Path(__file__).resolve().parents[2] / "ui" / "app.py"
    settings = get_settings()
    address = host or settings.ui_host
    if address != "localhost" and not is_loopback(address):
        err.print(
            f"[bold yellow]WARNING:[/bold yellow] the UI listens on {address}: it has no login, so anyone who can reach "
            "this machine can read your notes through it (and through the API key it presents).",
            highlight=False,
        )
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port or settings.ui_port), "--server.address", address, "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    child = subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def forward(signum: int, frame: object) -> None:
        # Without this, `kill <kb ui>` ended only this process and Streamlit, re-parented, kept the port.
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        code = child.wait()
    finally:
        if child.poll() is None:  # an exception got here first: never leave Streamlit behind
            child.terminate()
            child.wait()
    # Streamlit exits 0 on SIGTERM/SIGINT; a signal that killed it outright shows as a negative code.
    raise typer.Exit(code if code >= 0 else 128 - code)


def _die_with_parent() -> None:
    """In the child, before Streamlit starts: get SIGTERM if `kb ui` dies without a chance to forward (kill -9)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
