"""The `kb` command line: ingest, inspect, search, evaluate, serve."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

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


def _fail(exc: KBError) -> None:
    from kb.errors import BadQuery, UnknownService

    err.print(f"[red]error:[/red] {exc.message}", highlight=False)
    raise typer.Exit(EXIT_USAGE if isinstance(exc, (BadQuery, UnknownService, BadUsage)) else EXIT_FAILED)


def _settings(notes: Path | None = None, index: Path | None = None):
    settings = get_settings()
    update = {k: v for k, v in {"notes_dir": notes, "index_dir": index}.items() if v is not None}
    return settings.model_copy(update=update) if update else settings


def _knowledge_base(index: Path | None = None):
    from kb.core import KnowledgeBase

    return KnowledgeBase(_settings(index=index))


def _from_server(method: str, path: str, index: Path | None, **request) -> dict | None:
    """The JSON a running `kb serve` at KB_API_URL answers, when it serves the very build of the index this command
    would load (same build id); None otherwise, and the command loads the index itself.

    Asking the server costs milliseconds; loading the index and the model in this process costs seconds.
    Any failure (no server, another build, a key refused, an error status) falls back to the local path,
    which gives the same answer or the same error message.
    """
    from kb.store.manifest import serving_build_id

    settings = _settings(index=index)
    build_id = serving_build_id(settings.index_dir)
    if build_id is None:
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


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _print_problems(problems) -> None:
    """Every skipped file and problem, one line each, on stderr (the same list on every run)."""
    labels = {"skipped": "[yellow]skipped[/yellow]", "bad_lines": "[yellow]bad lines[/yellow]",
              "warning": "[yellow]warning[/yellow]", "notice": "note"}
    for problem in problems:
        where = f" (line {problem.line})" if problem.line and problem.level != "bad_lines" else ""
        err.print(f"{labels[problem.level]} {problem.file}{where}: {problem.reason}", highlight=False)


def _notes_dir_or_exit(settings) -> None:
    from ingest.build import check_notes_dir

    try:
        check_notes_dir(settings.notes_dir)
    except KBError as exc:
        _fail(BadUsage(exc.message))


class _ProgressLines:
    """Plain progress lines on stderr when it is not a terminal (a log, CI, a pipe): one every `every` seconds."""

    def __init__(self, every: float = 5.0) -> None:
        import time

        self._clock = time.monotonic
        self._every = every
        self._started = self._clock()
        self._last = self._started
        self._files = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self._clock()
        if stage == "reading":
            self._files = done
            err.print(f"reading: {done} of {total} files are notes", highlight=False)
            return
        if stage != "embedding" or not total or (now - self._last < self._every and done < total):
            return
        self._last = now
        rate = done / max(now - self._started, 1e-9)
        left = (total - done) / rate if rate else 0
        err.print(
            f"embedding: {done} of {total} texts ({done / total:.0%}) from {self._files} files, {rate:.0f} texts/s, "
            f"about {left:.0f} s left",
            highlight=False,
        )


@app.command()
def ingest(
    notes: Optional[Path] = typer.Option(None, help="Notes folder, read recursively (default: KB_NOTES_DIR or data/notes)."),
    index: Optional[Path] = typer.Option(None, help="Index directory (default: KB_INDEX_DIR or data/index)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when nothing changed since the last build."),
    wait: bool = typer.Option(False, help="Wait for a rebuild that is already running instead of refusing."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build or refresh the index from the notes folder (incremental, atomic).

    Exit codes: 0 every note read; 1 a file was skipped or had undecodable lines (listed on every run);
    2 bad usage; 3 failure (e.g. another rebuild is running).
    """
    from ingest.build import build_index, index_is_stale
    from ingest.notes import parse_suffixes
    from kb.embedder import get_embedder
    from kb.model_folder import resolve_model

    settings = _settings(notes, index)
    _notes_dir_or_exit(settings)
    suffixes = parse_suffixes(settings.note_suffixes)
    try:
        if not force:
            model_name = resolve_model(settings.model)[0]
            reason = index_is_stale(
                settings.notes_dir, settings.index_dir, model_name, settings.chunk_max_tokens, suffixes
            )
            if reason is None:
                from kb.index import read_manifest

                manifest = read_manifest(settings.index_dir)
                problems = manifest.problems
                _print_problems(problems)
                err.print(
                    f"index at {settings.index_dir} is up to date: nothing changed since build {manifest.build_id} "
                    "(use --force to rebuild anyway)",
                    highlight=False,
                )
                if as_json:
                    _print_json({
                        "up_to_date": True,
                        "build_id": manifest.build_id,
                        "index_dir": str(settings.index_dir),
                        "files": len(manifest.files),
                        "chunks": manifest.chunk_count,
                        "reembedded": 0,
                        "problems": [p.model_dump() for p in problems],
                    })
                if any(p.loses_text for p in problems):
                    raise typer.Exit(EXIT_SKIPPED)
                return
            if reason.startswith("there is no index"):
                err.print(f"building a new index at {settings.index_dir} from {settings.notes_dir}", highlight=False)
            else:
                err.print(f"rebuilding the index at {settings.index_dir}: {reason}", highlight=False)
        else:
            err.print(f"rebuilding the index at {settings.index_dir} (--force)", highlight=False)
        embedder = get_embedder(settings)
        run = lambda progress: build_index(  # noqa: E731
            settings.notes_dir, settings.index_dir, embedder, max_tokens=settings.chunk_max_tokens, wait=wait,
            progress=progress, suffixes=suffixes,
        )
        if err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("reading notes", total=None)
                report = run(lambda stage, done, total: bar.update(task, description=stage, completed=done, total=total or None))
        else:
            report = run(_ProgressLines())
    except KBError as exc:
        _fail(exc)
    _print_problems(report.problems)
    if as_json:
        _print_json(report.summary())
    else:
        out.print(
            f"indexed {report.files} files, {report.sections} sections, {report.chunks} chunks "
            f"({report.lines} lines); re-embedded {report.reembedded}, reused {report.reused}; "
            f"{report.seconds:.1f} s -> {settings.index_dir}",
            highlight=False,
        )
    if any(p.loses_text for p in report.problems):
        raise typer.Exit(EXIT_SKIPPED)


@app.command()
def chunks(
    file: Optional[str] = typer.Option(None, "--file", help="Only this note (its path in the notes folder, e.g. AWS/s3.md)."),
    notes: Optional[Path] = typer.Option(None, help="Notes folder."),
    as_json: bool = typer.Option(False, "--json", help="Print every chunk as JSON."),
) -> None:
    """Show how the notes are chunked (read from the notes themselves, no index needed); problems go to stderr."""
    from ingest.build import all_problems, chunk_notes, read_notes
    from ingest.notes import parse_suffixes
    from kb.embedder import get_embedder

    settings = _settings(notes)
    _notes_dir_or_exit(settings)
    notes_read, skipped = read_notes(settings.notes_dir, parse_suffixes(settings.note_suffixes))
    if file is not None:
        notes_read = [n for n in notes_read if n.name == file]
        skipped = [p for p in skipped if p.file == file]
        if not notes_read and not skipped:
            _fail(BadUsage(f"no note file {file!r} in {settings.notes_dir}"))
    records, _, _ = chunk_notes(notes_read, get_embedder(settings), settings.chunk_max_tokens)
    problems = all_problems(notes_read, skipped)
    _print_problems(problems)
    if as_json:
        _print_json([r.chunk.model_dump() for r in records])
    else:
        for record in records:
            c = record.chunk
            chars = f"[{c.start_char}:{c.end_char}]" if c.start_char is not None else ""
            out.print(
                f"[bold]{c.file}:{c.start_line}-{c.end_line}{chars}[/bold] {' > '.join(c.heading_path)} {c.service}",
                highlight=False,
            )
    if any(p.loses_text for p in problems):
        raise typer.Exit(EXIT_SKIPPED)


@app.command()
def services(
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The catalogue's services found in the notes, with chunk counts."""
    try:
        found = _knowledge_base(index).services()
    except KBError as exc:
        _fail(exc)
    if as_json:
        _print_json([s.model_dump() for s in found])
        return
    for s in found:
        out.print(f"{s.id:28} {s.name:28} {s.chunk_count:5}  {s.full_name}", highlight=False)


@app.command()
def search(
    query: str = typer.Argument(..., help="A question or keywords."),
    k: int = typer.Option(10, "--k", help="How many passages."),
    service: Optional[str] = typer.Option(None, help="Only passages about this service (id, name or alias)."),
    mode: str = typer.Option("hybrid", help="hybrid, dense or bm25."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search the notes; every result is cited to its file and lines (served by a running `kb serve` when one
    at KB_API_URL serves the same index build)."""
    from kb.models import SearchResult

    params = {"q": query, "k": k, "mode": mode, **({"service": service} if service else {})}
    served = _from_server("GET", "/search", index, params=params)
    try:
        if served is not None:
            result = SearchResult.model_validate(served)
        else:
            result = _knowledge_base(index).search(query, k=k, service=service, mode=mode)  # type: ignore[arg-type]
    except KBError as exc:
        _fail(exc)
    if as_json:
        _print_json(result.model_dump())
        return
    for rank, hit in enumerate(result.results, 1):
        snippet = " ".join(hit.text.split())[:160]
        chars = f" chars {hit.start_char}-{hit.end_char}" if hit.start_char is not None else ""
        out.print(f"[bold]{rank:2}. {hit.file}:{hit.start_line}-{hit.end_line}{chars}[/bold]  {hit.score:.3f}", highlight=False)
        out.print(f"    [cyan]{' > '.join(hit.heading_path)}[/cyan]", highlight=False)
        out.print(f"    {snippet}", highlight=False, markup=False)


@app.command()
def ask(
    question: str = typer.Argument(..., help="A question in your own words."),
    k: int = typer.Option(5, "--k", help="How many passages to draw the answer from."),
    service: Optional[str] = typer.Option(None, help="Only passages about this service."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """An answer extracted from the notes, every sentence cited to its line (or a plain 'not covered'); served by
    a running `kb serve` when one at KB_API_URL serves the same index build."""
    from kb.models import Answer

    served = _from_server("POST", "/ask", index, json={"question": question, "k": k, "service": service})
    try:
        answer = Answer.model_validate(served) if served is not None else _knowledge_base(index).ask(question, k=k, service=service)
    except KBError as exc:
        _fail(exc)
    if as_json:
        _print_json(answer.model_dump())
        return
    out.print(answer.answer, highlight=False, markup=False)
    for c in answer.citations:
        out.print(f"  [{c.n}] {c.file}:{c.start_line}" + (f"  ({c.context})" if c.context else ""), highlight=False, markup=False)
    if answer.comparison is not None:
        from kb.compare.export import to_markdown

        out.print("\nSide by side (kb compare gives the whole table):", highlight=False, markup=False)
        out.print(to_markdown(answer.comparison), highlight=False, markup=False)
    if answer.abstained:
        for hit in answer.passages[:3]:
            out.print(f"  nearest: {hit.file}:{hit.start_line}-{hit.end_line} {' > '.join(hit.heading_path)}", highlight=False)


@app.command()
def compare(
    services: list[str] = typer.Argument(..., help="2 to 6 services by id, name or alias, e.g. SQS SNS Kinesis."),
    aspect: Optional[list[str]] = typer.Option(
        None, "--aspect", help="An aspect to compare (repeatable), e.g. retention; default: the set for their family."
    ),
    output_format: str = typer.Option("md", "--format", help="md, csv or json."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
) -> None:
    """A comparison table: every cell quoted from the notes with its lines, "not in notes", or a flagged conflict."""
    from kb.compare.export import to_csv, to_markdown

    if output_format not in ("md", "csv", "json"):
        err.print(f"[red]error:[/red] --format must be md, csv or json, got {output_format!r}", highlight=False)
        raise typer.Exit(EXIT_USAGE)
    try:
        table = _knowledge_base(index).compare(services, aspect or None)
    except KBError as exc:
        _fail(exc)
    if output_format == "json":
        _print_json(table.model_dump(exclude_none=True))
    else:
        sys.stdout.write(to_markdown(table) if output_format == "md" else to_csv(table))


@app.command(name="eval")
def evaluate_command(
    questions: Path = typer.Argument(..., help="Questions JSONL (format of ../shared/eval/README.md)."),
    mode: str = typer.Option("hybrid", help="hybrid, dense or bm25."),
    misses: bool = typer.Option(False, "--misses", help="List questions with no relevant passage in the top 5."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recall@1/5/10 and MRR@10 on a question set, overall, per kind and per file."""
    from kb.evaluation import evaluate, load_questions

    try:
        kb = _knowledge_base(index)
        report = evaluate(
            load_questions(questions),
            lambda q: [h.model_dump() for h in kb.search(q, k=10, mode=mode).results],  # type: ignore[arg-type]
        )
    except KBError as exc:
        _fail(exc)
    if as_json:
        _print_json({"overall": report.overall, "by_kind": report.by_kind, "by_file": report.by_file, "misses": report.misses})
        return
    line = lambda name, s: f"{name:28} n={s['n']:3}  r@1={s['recall@1']:.3f}  r@5={s['recall@5']:.3f}  r@10={s['recall@10']:.3f}  mrr@10={s['mrr@10']:.3f}"  # noqa: E731
    out.print(f"mode={mode}", highlight=False)
    for name, s in report.by_kind.items():
        out.print(line(f"kind {name}", s), highlight=False)
    for name, s in report.by_file.items():
        out.print(line(name, s), highlight=False)
    out.print(line("overall", report.overall), highlight=False)
    if misses:
        for m in report.misses:
            out.print(f"MISS {m['id']} rank={m['rank']} gold={m['gold']} top3={m['top3']} :: {m['question']}", highlight=False)


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

    settings = _settings(index=index)
    if host:
        settings = settings.model_copy(update={"api_host": host})
    warning = exposure_warning(settings)
    if warning:
        err.print(f"[bold yellow]WARNING:[/bold yellow] {warning}", highlight=False)
    try:
        application = create_app(settings, preload=True)
    except KBError as exc:
        _fail(exc)
    # api/logging.py writes one structured line per request; uvicorn's own access line would repeat it.
    uvicorn.run(application, host=settings.api_host, port=port or settings.api_port, log_level="info", access_log=False)


@app.command()
def mcp(index: Optional[Path] = typer.Option(None, help="Index directory.")) -> None:
    """Serve the notes to an MCP client (a desktop assistant) over stdin/stdout: search, ask, compare, list_services, get_passage."""
    from api.mcp_server import run_stdio

    run_stdio(_settings(index=index))


@app.command()
def ui(
    port: Optional[int] = typer.Option(None, help="Port (default KB_UI_PORT, 8501)."),
    host: Optional[str] = typer.Option(None, help="Address to listen on (default KB_UI_HOST, 127.0.0.1: this machine only)."),
) -> None:
    """Run the Streamlit UI (it talks to the API at KB_API_URL); SIGTERM or Ctrl-C stops Streamlit too."""
    import signal
    import subprocess

    from api.security import is_loopback

    script = Path(__file__).resolve().parent.parent / "ui" / "app.py"
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


if __name__ == "__main__":
    app()
