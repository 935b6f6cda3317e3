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

EXIT_SKIPPED = 1  # the index was built, but some note files were skipped
EXIT_FAILED = 3


def _fail(exc: KBError) -> None:
    err.print(f"[red]error:[/red] {exc.message}", highlight=False)
    raise typer.Exit(EXIT_FAILED)


def _settings(notes: Path | None = None, index: Path | None = None):
    settings = get_settings()
    update = {k: v for k, v in {"notes_dir": notes, "index_dir": index}.items() if v is not None}
    return settings.model_copy(update=update) if update else settings


def _knowledge_base(index: Path | None = None):
    from kb.core import KnowledgeBase

    return KnowledgeBase(_settings(index=index))


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
def ingest(
    notes: Optional[Path] = typer.Option(None, help="Notes directory (default: KB_NOTES_DIR or data/notes)."),
    index: Optional[Path] = typer.Option(None, help="Index directory (default: KB_INDEX_DIR or data/index)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even when nothing changed since the last build."),
    wait: bool = typer.Option(False, help="Wait for a rebuild that is already running instead of refusing."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build or refresh the index from the notes (incremental, atomic)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.build import build_index, index_is_stale
    from kb.embedder import get_embedder
    from kb.model_folder import resolve_model

    settings = _settings(notes, index)
    try:
        if not force:
            model_name = resolve_model(settings.model)[0]
            reason = index_is_stale(settings.notes_dir, settings.index_dir, model_name, settings.chunk_max_tokens)
            if reason is None:
                err.print(f"index at {settings.index_dir} is up to date: nothing changed (use --force to rebuild anyway)")
                if as_json:
                    _print_json({"up_to_date": True, "reembedded": 0, "index_dir": str(settings.index_dir)})
                return
            err.print(f"building: {reason}", highlight=False)
        embedder = get_embedder(settings)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
        ) as bar:
            task = bar.add_task("reading notes", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total or None)

            report = build_index(
                settings.notes_dir, settings.index_dir, embedder, max_tokens=settings.chunk_max_tokens, wait=wait, progress=progress
            )
    except KBError as exc:
        _fail(exc)
    for problem in report.problems:
        where = f" (line {problem.line})" if problem.line else ""
        err.print(f"[yellow]skipped[/yellow] {problem.file}{where}: {problem.reason}", highlight=False)
    if as_json:
        _print_json(report.summary())
    else:
        out.print(
            f"indexed {report.files} files, {report.sections} sections, {report.chunks} chunks "
            f"({report.lines} lines); re-embedded {report.reembedded}, reused {report.reused}; "
            f"{report.seconds:.1f} s -> {settings.index_dir}",
            highlight=False,
        )
    if report.problems:
        raise typer.Exit(EXIT_SKIPPED)


@app.command()
def chunks(
    file: Optional[str] = typer.Option(None, "--file", help="Only this note file (its name)."),
    notes: Optional[Path] = typer.Option(None, help="Notes directory."),
    as_json: bool = typer.Option(False, "--json", help="Print every chunk as JSON."),
) -> None:
    """Show how the notes are chunked (read from the notes themselves, no index needed)."""
    from ingest.build import chunk_notes
    from ingest.notes import note_paths, read_note
    from kb.embedder import get_embedder
    from kb.models import FileProblem

    settings = _settings(notes)
    paths = [p for p in note_paths(settings.notes_dir) if file is None or p.name == file]
    if file and not paths:
        err.print(f"[red]error:[/red] no note file {file!r} in {settings.notes_dir}")
        raise typer.Exit(EXIT_FAILED)
    notes_read = [n for n in map(read_note, paths) if not isinstance(n, FileProblem)]
    records, _, _ = chunk_notes(notes_read, get_embedder(settings), settings.chunk_max_tokens)
    if as_json:
        _print_json([r.chunk.model_dump() for r in records])
        return
    for record in records:
        c = record.chunk
        out.print(f"[bold]{c.file}:{c.start_line}-{c.end_line}[/bold] {' > '.join(c.heading_path)} {c.service}", highlight=False)


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
    """Search the notes; every result is cited to its file and lines."""
    try:
        result = _knowledge_base(index).search(query, k=k, service=service, mode=mode)  # type: ignore[arg-type]
    except KBError as exc:
        _fail(exc)
    if as_json:
        _print_json(result.model_dump())
        return
    for rank, hit in enumerate(result.results, 1):
        snippet = " ".join(hit.text.split())[:160]
        out.print(f"[bold]{rank:2}. {hit.file}:{hit.start_line}-{hit.end_line}[/bold]  {hit.score:.3f}", highlight=False)
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
    """An answer extracted from the notes, every sentence cited to its line (or a plain 'not covered')."""
    try:
        answer = _knowledge_base(index).ask(question, k=k, service=service)
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
        raise typer.Exit(EXIT_FAILED)
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
    host: Optional[str] = typer.Option(None, help="Address to listen on (default KB_API_HOST)."),
    port: Optional[int] = typer.Option(None, help="Port (default KB_API_PORT, 8000)."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
) -> None:
    """Run the HTTP API (FastAPI + uvicorn); checks the index before it listens."""
    import uvicorn

    from api.app import create_app

    settings = _settings(index=index)
    try:
        application = create_app(settings, preload=True)
    except KBError as exc:
        _fail(exc)
    # api/logging.py writes one structured line per request; uvicorn's own access line would repeat it.
    uvicorn.run(
        application, host=host or settings.api_host, port=port or settings.api_port, log_level="info", access_log=False
    )


@app.command()
def ui(port: Optional[int] = typer.Option(None, help="Port (default KB_UI_PORT, 8501).")) -> None:
    """Run the Streamlit UI (it talks to the API at KB_API_URL)."""
    import subprocess

    script = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    settings = get_settings()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port or settings.ui_port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    raise typer.Exit(subprocess.call(command))


if __name__ == "__main__":
    app()
