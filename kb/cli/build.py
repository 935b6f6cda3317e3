"""`kb ingest` and `kb chunks`: build the index from the notes folder, or show how the notes are chunked."""

from pathlib import Path
from typing import Optional

import typer

from kb.cli.common import EXIT_SKIPPED, BadUsage, fail, print_json, print_problems, settings_for, app, err, out
from kb.errors import KBError


def _notes_dir_or_exit(settings) -> None:
    from ingest.build import check_notes_dir

    try:
        check_notes_dir(settings.notes_dir)
    except KBError as exc:
        fail(BadUsage(exc.message))


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

    settings = settings_for(notes, index)
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
                print_problems(problems)
                err.print(
                    f"index at {settings.index_dir} is up to date: nothing changed since build {manifest.build_id} "
                    "(use --force to rebuild anyway)",
                    highlight=False,
                )
                if as_json:
                    print_json({
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
        fail(exc)
    print_problems(report.problems)
    if as_json:
        print_json(report.summary())
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

    settings = settings_for(notes)
    _notes_dir_or_exit(settings)
    notes_read, skipped = read_notes(settings.notes_dir, parse_suffixes(settings.note_suffixes))
    if file is not None:
        notes_read = [n for n in notes_read if n.name == file]
        skipped = [p for p in skipped if p.file == file]
        if not notes_read and not skipped:
            fail(BadUsage(f"no note file {file!r} in {settings.notes_dir}"))
    records, _, _ = chunk_notes(notes_read, get_embedder(settings), settings.chunk_max_tokens)
    problems = all_problems(notes_read, skipped)
    print_problems(problems)
    if as_json:
        print_json([r.chunk.model_dump() for r in records])
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
