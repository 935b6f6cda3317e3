"""An answer with its [n] markers and footnotes, the head of each passage, and a service's passages and outline."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kb.models import Answer, Chunk
from ui.render.notes import passage_html, slice_label
from ui.render.text import anchor_id, esc, heading_trail, inline_html, note_link, quote_html

_MARKER = re.compile(r"\[(\d+)\]")


def citation_marks(answer: Answer, passage_id: str) -> dict[int, list[int]]:
    """For one passage: line number -> numbers of the citations that quote it."""
    marks: dict[int, list[int]] = {}
    for citation in answer.citations:
        if citation.id != passage_id:
            continue
        for line in range(citation.start_line, citation.end_line + 1):
            marks.setdefault(line, [])
            if citation.n not in marks[line]:
                marks[line].append(citation.n)
    return marks


def cited_passages(answer: Answer) -> tuple[list[Chunk], list[Chunk]]:
    """The passages the citations point into (in citation order), and the rest of the retrieved passages."""
    by_id = {p.id: p for p in answer.passages}
    cited: list[Chunk] = []
    for citation in sorted(answer.citations, key=lambda c: c.n):
        passage = by_id.get(citation.id)
        if passage is not None and passage not in cited:
            cited.append(passage)
    return cited, [p for p in answer.passages if p not in cited]


def answer_html(answer: Answer) -> str:
    """The answer text, escaped (bold and code kept), with each [n] marker a link to its cited passage."""
    targets = {c.n: anchor_id("p", c.id) for c in answer.citations}

    def marker(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in targets:
            return match.group(0)
        return f'<a class="kb-ref kb-mark" href="#{targets[n]}" title="citation {n}: see its lines below">{n}</a>'

    contexts = {c.n: c.context for c in answer.citations if c.context}

    def line_html(line: str) -> str:
        # A line quoting one citation opens with what it sits under: "Global Secondary Index ›" before
        # "Can be created and deleted at will." keeps a fragment's subject in view.
        cited = [int(n) for n in _MARKER.findall(line)]
        context = contexts.get(cited[0]) if len(cited) == 1 else None
        prefix = f'<span class="kb-context kb-muted-context">{esc(context)} ›</span> ' if context else ""
        return prefix + _MARKER.sub(marker, inline_html(line))

    body = "\n".join(line_html(line) for line in answer.answer.strip().split("\n"))
    return f'<div class="kb-answer" data-question="{esc(answer.question)}">{body}</div>'


def abstention_html(answer: Answer, scope: str = "") -> str:
    """The plain statement that the notes do not cover the question."""
    return (
        f'<div class="kb-abstain" data-question="{esc(answer.question)}"><strong>Your notes do not seem to cover this'
        f"{esc(scope)}.</strong> The nearest passages are below; check them yourself.</div>"
    )


def footnotes_html(answer: Answer) -> str:
    """`[1] aws-developer-notes.md:1261 — SQS › Retention: “4 days message retention”`, one line a citation.

    The context (heading, parent bullet) keeps a fragment's subject: "Can be created and deleted at will" is
    about a Global Secondary Index, which the quote alone does not say."""
    items = []
    for c in sorted(answer.citations, key=lambda c: c.n):
        quote = " ".join(c.quote.split())
        context = f'<span class="kb-context">{esc(c.context)}:</span> ' if c.context else ""
        items.append(
            f'<li><a class="kb-ref" href="#{anchor_id("p", c.id)}">{c.n}</a> '
            f"{note_link(c.file, c.start_line, c.end_line)}"
            + (f' <span class="kb-quote">— {context}“{quote_html(quote)}”</span>' if quote else "")
            + "</li>"
        )
    return f'<ul class="kb-footnotes">{"".join(items)}</ul>' if items else ""


def passage_head_html(passage: Chunk, answer: Answer | None = None) -> str:
    """The line above a passage: its citations as file:line, its span, its heading path; an anchor to jump to."""
    cites = sorted((c for c in (answer.citations if answer else []) if c.id == passage.id), key=lambda c: c.n)
    if cites:
        where = " ".join(
            f'<span class="kb-ref">{c.n}</span> {note_link(c.file, c.start_line, c.end_line)}'
            for c in cites
        )
        span = f'<span class="kb-span">passage lines {passage.start_line}–{passage.end_line}</span>'
    else:
        where = note_link(passage.file, passage.start_line, passage.end_line)
        span = ""
    if passage.start_char is not None:
        span += f'<span class="kb-span">{slice_label(passage)} of line {passage.start_line}</span>'
    trail = f'<span class="kb-trail">{heading_trail(passage.heading_path)}</span>' if passage.heading_path else ""
    if passage.tags:
        trail += f'<span class="kb-span">{esc(" ".join("#" + t for t in passage.tags))}</span>'
    return f'<div class="kb-card-head" id="{anchor_id("p", passage.id)}">{where}{span}{trail}</div>'


def service_file_html(file: str, passages: Sequence[Chunk]) -> str:
    """Every passage of one note file about a service, in line order, each with file:lines and heading path."""
    blocks = []
    for passage in sorted(passages, key=lambda p: p.start_line):
        blocks.append(
            f'<div class="kb-block">{passage_head_html(passage)}{passage_html(passage)}</div>'
        )
    return "".join(blocks)


def outline_html(files: Sequence[tuple[str, Sequence[Chunk]]]) -> str:
    """The headings of a service's passages, file by file, each a link to the first passage under it."""
    parts = ['<div class="kb-outline">']
    for file, passages in files:
        parts.append(f'<div class="kb-file">{esc(file)}</div>')
        seen: set[tuple[str, ...]] = set()
        for passage in sorted(passages, key=lambda p: p.start_line):
            path = tuple(passage.heading_path)
            for depth in range(1, len(path) + 1):
                prefix = path[:depth]
                if prefix in seen:
                    continue
                seen.add(prefix)
                indent = (depth - 1) * 0.9
                parts.append(
                    f'<div style="padding-left:{indent:.1f}em">'
                    f'<a href="#{anchor_id("p", passage.id)}">{inline_html(prefix[-1])}</a></div>'
                )
            if not path and () not in seen:
                seen.add(())
                parts.append(f'<div><a href="#{anchor_id("p", passage.id)}">(before the first heading)</a></div>')
    parts.append("</div>")
    return "".join(parts)
