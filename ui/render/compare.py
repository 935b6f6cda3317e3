"""A comparison table as HTML: one column per service, one row per aspect, each quote numbered to its source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kb.models import Cell, CellCitation, ComparisonTable
from ui.render.text import anchor_id, esc, inline_html, location, note_link, quote_html

SourceKey = tuple[str, int, int, str]


def source_key(citation: CellCitation) -> SourceKey:
    """Two cells quoting different words of one line get two footnotes, each with its own quote."""
    return (citation.file, citation.start_line, citation.end_line, " ".join(citation.quote.split()))


def number_sources(table: ComparisonTable) -> dict[SourceKey, int]:
    """One footnote number per distinct quoted span, in table order (row by row, service by service)."""
    numbers: dict[SourceKey, int] = {}
    for aspect in table.aspects:
        for service in table.services:
            cell = cell_at(table, service, aspect)
            for citation in cell.citations if cell else []:
                numbers.setdefault(source_key(citation), len(numbers) + 1)
    return numbers


def cell_at(table: ComparisonTable, service: str, aspect: str) -> Cell | None:
    for cell in table.cells:
        if cell.service == service and cell.aspect == aspect:
            return cell
    return None


def sources(table: ComparisonTable) -> list[tuple[int, CellCitation]]:
    """Each footnote number with the first citation that carries it."""
    numbers = number_sources(table)
    first: dict[int, CellCitation] = {}
    for cell in table.cells:
        for citation in cell.citations:
            n = numbers.get(source_key(citation))
            if n is not None and n not in first:
                first[n] = citation
    return sorted(first.items())


NOT_IN_NOTES = "—  not in notes"


def aspect_title(aspect: str) -> str:
    """`retention` -> `Retention`, leaving `TTL` and `SQS FIFO` alone."""
    return aspect[:1].upper() + aspect[1:]


def cell_parts(cell: Cell) -> list[tuple[str, list[CellCitation]]]:
    """A value joined from several quotes (`a / b`) as its parts, each with the citation that quotes it.

    Citations that quote none of the parts go with the last part, so no source is lost.
    """
    parts = [part for part in cell.value.split(" / ") if part.strip()] or [cell.value]
    unused = _distinct(cell.citations)
    paired: list[tuple[str, list[CellCitation]]] = []
    for part in parts:
        words = _plain(part)
        quotes = [(c, _plain(c.quote)) for c in unused]
        match = next((c for c, q in quotes if q == words), None) or next(
            (c for c, q in quotes if q and (f" {q} " in f" {words} " or f" {words} " in f" {q} ")), None
        )
        if match is not None:
            unused.remove(match)
        paired.append((part, [match] if match else []))
    paired[-1][1].extend(unused)
    return paired


def _plain(text: str) -> str:
    return " ".join(text.replace("**", "").replace("`", "").split()).lower()


def comparison_html(table: ComparisonTable, names: Mapping[str, str]) -> str:
    """One column per service, one row per aspect; values escaped, each quote followed by the footnote of its source."""
    numbers = number_sources(table)

    def refs(citations: Iterable[CellCitation]) -> str:
        return "".join(
            f'<a class="kb-ref kb-mark" href="#{anchor_id("src", numbers[source_key(c)])}" '
            f'title="{esc(location(c.file, c.start_line, c.end_line))}">{numbers[source_key(c)]}</a>'
            for c in citations
        )

    head = "".join(f"<th>{esc(names.get(s, s))}</th>" for s in table.services)
    rows = []
    for aspect in table.aspects:
        cells = []
        for service in table.services:
            cell = cell_at(table, service, aspect)
            if cell is None or cell.status == "not_in_notes":
                cells.append(f'<td><span class="kb-missing">{esc(NOT_IN_NOTES)}</span></td>')
                continue
            value = "".join(f'<div class="kb-part">{inline_html(part)} {refs(cites)}</div>' for part, cites in cell_parts(cell))
            if cell.status == "conflict":
                reason = f'<span class="kb-reason">{esc(cell.conflict_reason)}</span>' if cell.conflict_reason else ""
                where = "".join(
                    f'<span class="kb-reason">{esc(location(c.file, c.start_line, c.end_line))}: “{quote_html(c.quote)}”</span>'
                    for c in _distinct(cell.citations)
                )
                cells.append(
                    f'<td class="kb-conflict"><span class="kb-flag" title="the notes disagree">⚠ conflict</span>'
                    f"{value}{reason}{where}</td>"
                )
            else:
                cells.append(f"<td>{value}</td>")
        rows.append(f'<tr><th scope="row">{esc(aspect_title(aspect))}</th>{"".join(cells)}</tr>')
    return (
        '<table class="kb-compare"><thead><tr><th>Aspect</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _distinct(citations: Iterable[CellCitation]) -> list[CellCitation]:
    seen: set[SourceKey] = set()
    out = []
    for c in citations:
        if source_key(c) not in seen:
            seen.add(source_key(c))
            out.append(c)
    return out


def source_line_html(n: int, citation: CellCitation) -> str:
    """`[3] aws-saa-notes.txt:2210-2212 — “quote”`, with the anchor the table's footnotes jump to."""
    quote = " ".join(citation.quote.split())
    return (
        f'<div class="kb-source" id="{anchor_id("src", n)}"><span class="kb-ref">{n}</span> '
        f"{note_link(citation.file, citation.start_line, citation.end_line)}"
        + (f' <span class="kb-quote">— “{quote_html(quote)}”</span>' if quote else "")
        + "</div>"
    )
