"""A note's lines as numbered HTML rows: cited lines marked, table rows as tables, a slice of a long line highlighted."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from kb.models import Chunk, PassageContext
from ui.render.text import inline_html, line_html

def lines_html(
    lines: Sequence[str],
    first_line: int,
    marks: Mapping[int, Sequence[int]] | None = None,
    *,
    muted: bool = False,
    lead: Sequence[str] = (),
    line_ids: bool = False,
) -> str:
    """Numbered lines; a line in `marks` is highlighted and labelled with the citation numbers that point at it.

    Runs of table rows (markdown `| a | b |`, or tab-separated as Notion exports them) become a table, its header
    row on top: from the lines themselves, or, when they start inside a table, from `lead` (the lines just before
    them). With `line_ids`, line n can be linked and scrolled to as `#kb-L<n>`.
    """
    marks = marks or {}
    rows = []
    offset = 0
    for start, end in table_runs(lines, lead):
        rows += (_line_row(lines[i], first_line + i, marks, muted, line_ids) for i in range(offset, start))
        rows.append(_table_html(lines, start, end, first_line, marks, muted, lead if start == 0 else (), line_ids))
        offset = end
    rows += (_line_row(lines[i], first_line + i, marks, muted, line_ids) for i in range(offset, len(lines)))
    return "".join(rows)


def _line_row(text: str, number: int, marks: Mapping[int, Sequence[int]], muted: bool, line_ids: bool) -> str:
    cited = marks.get(number)
    hit = number in marks
    blank = not text.strip()
    classes = "kb-line" + (" kb-hit" if hit else "") + (" kb-muted" if muted else "") + (" kb-blank" if blank and not hit else "")
    label = "".join(f'<span class="kb-ref">{n}</span>' for n in cited) if cited else ""
    line_id = f' id="kb-L{number}"' if line_ids else ""
    return (
        f'<div class="{classes}"{line_id}><span class="kb-ln">{number}</span>'
        f'<span class="kb-tx">{line_html(text)}</span><span class="kb-mk">{label}</span></div>'
    )


_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def table_kind(text: str) -> str | None:
    """"pipe" for a markdown table row, "tab" for a tab-separated one (two or more cells, not indented), else None."""
    if _PIPE_ROW.match(text) and text.count("|") >= 2:
        return "pipe"
    if "\t" in text and not text.startswith(("\t", " ")) and sum(1 for cell in text.split("\t") if cell.strip()) >= 2:
        return "tab"
    return None


def table_runs(lines: Sequence[str], lead: Sequence[str] = ()) -> list[tuple[int, int]]:
    """(start, end) of each run of two or more table rows of one kind; one row suffices when it continues `lead`'s table."""
    runs = []
    i = 0
    while i < len(lines):
        kind = table_kind(lines[i])
        j = i
        while j < len(lines) and kind is not None and table_kind(lines[j]) == kind:
            j += 1
        continues = i == 0 and kind is not None and bool(lead) and table_kind(lead[-1]) == kind
        if kind is not None and (j - i >= 2 or continues):
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _cells(text: str, kind: str) -> list[str]:
    if kind == "tab":
        return text.rstrip("\n").split("\t")
    inner = text.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def _header_from_lead(lead: Sequence[str], kind: str, first_line: int) -> tuple[str, int] | None:
    """The header row (its text and line number) of a table that began in `lead`, the lines before `first_line`."""
    k = len(lead)
    while k > 0 and table_kind(lead[k - 1]) == kind:
        k -= 1
    if k == len(lead):
        return None
    # The first row of the block: a markdown table's header (above its |---| rule), a Notion export's column names.
    return lead[k], first_line - len(lead) + k


def _table_html(
    lines: Sequence[str],
    start: int,
    end: int,
    first_line: int,
    marks: Mapping[int, Sequence[int]],
    muted: bool,
    lead: Sequence[str],
    line_ids: bool,
) -> str:
    kind = table_kind(lines[start]) or "tab"
    rows = [(first_line + i, lines[i]) for i in range(start, end)]
    header: tuple[int, str, bool] | None = None  # (line number, text, shown from outside the passage)
    if kind == "pipe" and len(rows) >= 2 and _PIPE_RULE.match(rows[1][1]):
        header, rows = (rows[0][0], rows[0][1], False), rows[2:]
    elif lead and start == 0:
        found = _header_from_lead(lead, kind, first_line)
        if found is not None:
            header = (found[1], found[0], True)
    if header is None and kind == "tab":
        header, rows = (rows[0][0], rows[0][1], False), rows[1:]
    width = max(len(_cells(text, kind)) for _, text in ([(0, header[1])] if header else []) + rows) if (header or rows) else 0

    def cells(text: str, tag: str) -> str:
        values = _cells(text, kind)
        values += [""] * (width - len(values))
        return "".join(f"<{tag}>{inline_html(v)}</{tag}>" for v in values)

    parts = [f'<table class="kb-table{" kb-muted" if muted else ""}">']
    if header:
        number, text, outside = header
        title = ' title="the table\'s header, from the lines above"' if outside else ""
        parts.append(f'<thead><tr{title}><th class="kb-ln">{number}</th>{cells(text, "th")}<th class="kb-mk"></th></tr></thead>')
    parts.append("<tbody>")
    for number, text in rows:
        if kind == "pipe" and _PIPE_RULE.match(text):
            continue
        cited = marks.get(number)
        label = "".join(f'<span class="kb-ref">{n}</span>' for n in cited) if cited else ""
        hit = ' class="kb-hit"' if number in marks else ""
        line_id = f' id="kb-L{number}"' if line_ids else ""
        parts.append(
            f'<tr{line_id}{hit}><td class="kb-ln">{number}</td>{cells(text, "td")}<td class="kb-mk">{label}</td></tr>'
        )
    parts.append("</tbody></table>")
    return "".join(parts)


def slice_label(passage: Chunk) -> str:
    """'chars 1200–1890' for a passage cut from one long line, else ''."""
    if passage.start_char is None:
        return ""
    return f"chars {passage.start_char}–{passage.end_char}"


def slice_line_html(line: str, start: int, end: int, number: int, marks: Mapping[int, Sequence[int]] | None = None) -> str:
    """One long line with the passage's slice highlighted and the rest shortened around it."""
    keep = 160  # characters of the line shown on each side of the slice, so a 100 KB line stays readable
    before, inside, after = line[:start], line[start:end], line[end:]
    head = ("…" + before[-keep:]) if len(before) > keep else before
    tail = (after[:keep] + "…") if len(after) > keep else after
    cited = (marks or {}).get(number)
    label = "".join(f'<span class="kb-ref">{n}</span>' for n in cited) if cited else ""
    return (
        f'<div class="kb-line{" kb-hit" if cited else ""}"><span class="kb-ln">{number}</span><span class="kb-tx">'
        f'<span class="kb-cut">{inline_html(head)}</span><mark class="kb-slice">{inline_html(inside)}</mark>'
        f'<span class="kb-cut">{inline_html(tail)}</span></span><span class="kb-mk">{label}</span></div>'
    )


def passage_html(passage: Chunk, marks: Mapping[int, Sequence[int]] | None = None, lead: Sequence[str] = ()) -> str:
    """A passage as numbered lines with the cited ones highlighted (`lead`: the note's lines just before it; a slice
    of a long line marked as one)."""
    if passage.start_char is not None:
        cut = "…" if passage.start_char else ""
        body = slice_line_html(cut + passage.text + "…", len(cut), len(cut) + len(passage.text), passage.start_line, marks)
        return f'<div class="kb-passage">{body}</div>'
    body = lines_html(passage.text.split("\n"), passage.start_line, marks, lead=lead)
    return f'<div class="kb-passage">{body}</div>'


def context_html(context: PassageContext, marks: Mapping[int, Sequence[int]] | None = None) -> str:
    """A passage in its place in the note: muted lines before and after it."""
    passage = context.passage
    parts = ['<div class="kb-passage">']
    if context.before:
        parts.append(lines_html(context.before, context.before_start_line, muted=True))
        parts.append('<div class="kb-gap"></div>')
    if context.line is not None and passage.start_char is not None and passage.end_char is not None:
        parts.append(slice_line_html(context.line, passage.start_char, passage.end_char, passage.start_line, marks))
    else:
        parts.append(lines_html(passage.text.split("\n"), passage.start_line, marks, lead=context.before))
    if context.after:
        parts.append('<div class="kb-gap"></div>')
        parts.append(lines_html(context.after, passage.end_line + 1, muted=True))
    parts.append("</div>")
    return "".join(parts)


def starts_in_table(passage: Chunk) -> bool:
    """Whether the passage's first line is a table row: the table's header may sit above it, outside the passage."""
    return table_kind(passage.text.split("\n", 1)[0]) is not None
