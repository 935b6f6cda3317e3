"""`kb services`, `search`, `ask`, `compare` and `eval`: read the index (or a running server of the same build)."""

import sys
from pathlib import Path
from typing import Optional

import typer

from kb.cli.common import (
    EXIT_USAGE,
    fail,
    given_or_setting,
    knowledge_base,
    print_json,
    served_or_local,
    app,
    err,
    out,
)
from kb.config import DEFAULTS
from kb.errors import KBError


@app.command()
def services(
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The catalogue's services found in the notes, with chunk counts."""
    try:
        found = knowledge_base(index).services()
    except KBError as exc:
        fail(exc)
    if as_json:
        print_json([s.model_dump() for s in found])
        return
    for s in found:
        out.print(f"{s.id:28} {s.name:28} {s.chunk_count:5}  {s.full_name}", highlight=False)


@app.command()
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="A question or keywords."),
    k: int = typer.Option(DEFAULTS.default_k, "--k", help="How many passages."),
    service: Optional[str] = typer.Option(None, help="Only passages about this service (id, name or alias)."),
    mode: str = typer.Option("hybrid", help="hybrid, dense or bm25."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Search the notes; every result is cited to its file and lines (served by a running `kb serve` when one
    at KB_API_URL serves the same index build)."""
    from kb.models import SearchResult

    k = given_or_setting(ctx, "k", "default_k", index)
    params = {"q": query, "k": k, "mode": mode, **({"service": service} if service else {})}
    result = served_or_local(
        SearchResult, "GET", "/search", index,
        lambda: knowledge_base(index).search(query, k=k, service=service, mode=mode),  # type: ignore[arg-type]
        params=params,
    )
    if as_json:
        print_json(result.model_dump())
        return
    for rank, hit in enumerate(result.results, 1):
        snippet = " ".join(hit.text.split())[:160]
        chars = f" chars {hit.start_char}-{hit.end_char}" if hit.start_char is not None else ""
        out.print(f"[bold]{rank:2}. {hit.file}:{hit.start_line}-{hit.end_line}{chars}[/bold]  {hit.score:.3f}", highlight=False)
        out.print(f"    [cyan]{' > '.join(hit.heading_path)}[/cyan]", highlight=False)
        out.print(f"    {snippet}", highlight=False, markup=False)


@app.command()
def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="A question in your own words."),
    k: int = typer.Option(DEFAULTS.default_ask_k, "--k", help="How many passages to draw the answer from."),
    service: Optional[str] = typer.Option(None, help="Only passages about this service."),
    index: Optional[Path] = typer.Option(None, help="Index directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """An answer extracted from the notes, every sentence cited to its line (or a plain 'not covered'); served by
    a running `kb serve` when one at KB_API_URL serves the same index build."""
    from kb.models import Answer

    k = given_or_setting(ctx, "k", "default_ask_k", index)
    answer = served_or_local(
        Answer, "POST", "/ask", index, lambda: knowledge_base(index).ask(question, k=k, service=service),
        json={"question": question, "k": k, "service": service},
    )
    if as_json:
        print_json(answer.model_dump())
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
        table = knowledge_base(index).compare(services, aspect or None)
    except KBError as exc:
        fail(exc)
    if output_format == "json":
        print_json(table.model_dump(exclude_none=True))
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
        kb = knowledge_base(index)
        report = evaluate(
            load_questions(questions),
            lambda q: [h.model_dump() for h in kb.search(q, k=10, mode=mode).results],  # type: ignore[arg-type]
        )
    except KBError as exc:
        fail(exc)
    if as_json:
        print_json({"overall": report.overall, "by_kind": report.by_kind, "by_file": report.by_file, "misses": report.misses})
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
