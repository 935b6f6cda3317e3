"""Safe HTML for note text: every character from a note is escaped; only our own tags are markup.

Pure functions (no Streamlit), so the rendering rules are tested directly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote

from kb.models import Answer, Cell, CellCitation, Chunk, ComparisonTable, PassageContext

CSS = """
<style>
[id^='kb-'] { scroll-margin-top:4.5rem; }
.kb-card-head { display:flex; flex-wrap:wrap; gap:.35rem .8rem; align-items:baseline; margin-bottom:.35rem; }
.kb-loc { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.85rem; font-weight:600; }
.kb-span { font-size:.8rem; opacity:.6; }
.kb-trail { font-size:.85rem; opacity:.75; }
.kb-ref { display:inline-block; min-width:1.5em; padding:0 .3em; border-radius:.6em; font-size:.75rem; font-weight:600;
  text-align:center; text-decoration:none !important; background:rgba(255,171,0,.22); color:inherit !important; }
.kb-answer { font-size:1.08rem; line-height:1.65; white-space:pre-wrap; padding:.9rem 1.1rem; border-radius:.5rem;
  background:rgba(28,131,225,.07); border-left:4px solid rgba(28,131,225,.55); }
.kb-abstain { padding:.9rem 1.1rem; border-radius:.5rem; background:rgba(128,128,128,.08);
  border-left:4px solid rgba(128,128,128,.5); margin-bottom:.4rem; }
.kb-mark { vertical-align:.15em; margin-left:.1em; }
.kb-footnotes { margin:.6rem 0 0 0; padding:0; list-style:none; font-size:.9rem; }
.kb-footnotes li { margin:.15rem 0; }
.kb-quote { opacity:.8; }
.kb-context { font-style: italic; }
.kb-muted-context { opacity:.6; font-size:.9em; }
.kb-passage { font-size:.9rem; line-height:1.5; border-radius:.35rem; overflow-x:auto; }
.kb-line { display:flex; min-height:1.5em; }
.kb-blank { min-height:.55em; height:.55em; overflow:hidden; }
.kb-blank .kb-ln { visibility:hidden; }
.kb-ln { flex:0 0 3.6em; text-align:right; padding-right:.75em; opacity:.45; user-select:none;
  font-variant-numeric:tabular-nums; font-size:.8rem; padding-top:.1em; }
.kb-tx { flex:1; white-space:pre-wrap; word-break:break-word; tab-size:4; }
.kb-mk { flex:0 0 auto; padding-left:.5em; }
.kb-slice { background:rgba(255,196,0,.35); border-radius:2px; padding:0 1px; }
.kb-cut { color:#888; }
.kb-hit { background:rgba(255,196,0,.20); box-shadow:inset 3px 0 0 rgba(230,140,0,.85); }
.kb-muted .kb-tx { opacity:.55; }
.kb-gap { border-top:1px dashed rgba(128,128,128,.35); margin:.15rem 0; }
.kb-img { display:inline-block; font-size:.75rem; padding:0 .35em; border:1px solid rgba(128,128,128,.45);
  border-radius:.25em; opacity:.75; }
.kb-h { font-weight:650; }
.kb-tx code { font-size:.85em; padding:0 .2em; border-radius:.2em; background:rgba(128,128,128,.15); }
.kb-outline { font-size:.88rem; line-height:1.45; }
.kb-outline .kb-file { font-weight:600; margin-top:.6rem; }
.kb-outline a, .kb-outline a:visited { text-decoration:none; color:#1c64b4; }
.kb-block { margin:0 0 1.1rem 0; padding:.55rem .7rem; border:1px solid rgba(128,128,128,.25); border-radius:.5rem; }
[data-testid="stAppDeployButton"] { display:none; }
.kb-compare { width:100%; border-collapse:collapse; font-size:.92rem; table-layout:fixed; }
.kb-compare th, .kb-compare td { border:1px solid rgba(128,128,128,.3); padding:.5rem .65rem; vertical-align:top; text-align:left; }
.kb-compare thead th { background:rgba(128,128,128,.08); }
.kb-compare tbody th { font-weight:600; background:rgba(128,128,128,.04); }
.kb-compare thead th:first-child { width:13%; }
.kb-missing { opacity:.45; font-style:italic; }
.kb-part + .kb-part { margin-top:.35rem; padding-top:.35rem; border-top:1px dotted rgba(128,128,128,.3); }
.kb-conflict { background:rgba(255,75,75,.07); }
.kb-flag { font-weight:600; color:#c2410c; }
.kb-reason { display:block; font-size:.82rem; opacity:.75; margin-top:.25rem; }
.kb-table { border-collapse:collapse; margin:.25rem 0; font-size:.85rem; }
.kb-table th, .kb-table td { border:1px solid rgba(128,128,128,.3); padding:.2rem .5rem; vertical-align:top; text-align:left; }
.kb-table thead th { background:rgba(128,128,128,.1); font-weight:650; }
.kb-table .kb-ln { border:none; padding-right:.75em; min-width:3.6em; font-weight:400; background:none; }
.kb-table .kb-mk { border:none; background:none; }
.kb-table tr.kb-hit td:not(.kb-ln):not(.kb-mk) { background:rgba(255,196,0,.20); }
.kb-table.kb-muted td { opacity:.55; }
a.kb-loc, a.kb-loc:visited { color:inherit; text-decoration:underline dotted; }
.st-key-kb-sources { gap:.1rem; }
.st-key-kb-sources .kb-source { font-size:.9rem; }
</style>
"""

_INLINE = re.compile(
    r"(?P<image>!\[(?P<alt>[^\]\n]*)\]\((?P<src>[^)\n]*)\))"
    r"|(?P<img><img\b[^>\n]*>)"
    r"|(?P<link>\[(?P<label>[^\]\n]+)\]\((?P<href>[^)\s]*)\))"
    r"|<(?P<auto>https?://[^>\s]+)>"
    r"|(?P<bare>https?://[^\s<>\"')\]]+)"
    r"|\*\*(?P<bold>[^*\n]+)\*\*"
    r"|`(?P<code>[^`\n]+)`"
)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])>(?P<inner>.*?)</h\1>\s*$", re.IGNORECASE)
_MARKER = re.compile(r"\[(\d+)\]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def esc(text: object) -> str:
    """Text for an HTML body or attribute, with every special character escaped."""
    return html.escape(str(text), quote=True)


def location(file: str, start_line: int, end_line: int | None = None) -> str:
    """`aws-developer-notes.md:1261`, or `...:1261-1263` for a span."""
    if end_line is None or end_line == start_line:
        return f"{file}:{start_line}"
    return f"{file}:{start_line}-{end_line}"


def note_href(file: str, line: int) -> str:
    """The Browse page showing the note `file` at `line` (a relative URL, so it works under any base path)."""
    return f"browse?note={quote(file, safe='')}&line={line}#kb-L{line}"


def note_link(file: str, start_line: int, end_line: int | None = None) -> str:
    """`file:line` as a link that opens the note at that line on the Browse page, in a new tab."""
    return (
        f'<a class="kb-loc" href="{esc(note_href(file, start_line))}" target="_blank" rel="noopener" '
        f'title="open {esc(file)} at line {start_line}">{esc(location(file, start_line, end_line))}</a>'
    )


def anchor_id(kind: str, key: object) -> str:
    """An HTML id that is safe whatever the key (chunk ids may hold ':' or '/')."""
    return f"kb-{kind}-" + _ID_UNSAFE.sub("-", str(key)).strip("-")


def category_title(category: str) -> str:
    """`devtools` -> `Developer tools`: a catalogue category as a heading."""
    return {"ml": "Machine learning", "devtools": "Developer tools", "iot": "IoT", "": "Other"}.get(category, category.capitalize())


def markdown_escape(text: str) -> str:
    """Text for a Streamlit label that must not be read as Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def inline_html(text: str) -> str:
    """One line of a note as safe HTML: links stay links, local images become an [image] marker, the rest is text."""
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(esc(text[pos : match.start()]))
        pos = match.end()
        if match.group("image") is not None:
            out.append(_image_marker(match.group("src"), match.group("alt")))
        elif match.group("img") is not None:
            src = re.search(r"""src\s*=\s*["']?([^"'\s>]+)""", match.group("img"))
            out.append(_image_marker(src.group(1) if src else "", ""))
        elif match.group("link") is not None:
            label = esc(match.group("label"))
            # Only web links stay links; `[SendMessage API](#)` and local targets keep just their words.
            out.append(_link(match.group("href"), label) if match.group("href").startswith(("http://", "https://")) else label)
        elif match.group("auto") is not None:
            out.append(_link(match.group("auto"), esc(match.group("auto"))))
        elif match.group("bare") is not None:
            out.append(_link(match.group("bare"), esc(match.group("bare"))))
        elif match.group("bold") is not None:
            out.append(f"<strong>{esc(match.group('bold'))}</strong>")
        else:
            out.append(f"<code>{esc(match.group('code'))}</code>")
    out.append(esc(text[pos:]))
    return "".join(out)


def _link(href: str, label_html: str) -> str:
    return f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{label_html}</a>'


def _image_marker(src: str, alt: str) -> str:
    # Typora stores screenshots as paths on the author's disk (C:\Users\...\typora-user-images\...); they cannot load here.
    name = src.replace("\\", "/").rsplit("/", 1)[-1] or alt or "image"
    title = esc(f"image in the note: {name}")
    if src.lower().startswith(("http://", "https://")):
        return f'<a class="kb-img" href="{esc(src)}" title="{title}" target="_blank" rel="noopener noreferrer">[image]</a>'
    return f'<span class="kb-img" title="{title}">[image]</span>'


def line_html(text: str) -> str:
    """A note line, with headings (markdown `#` or HTML `<hN>`) shown bold."""
    heading = _HTML_HEADING.match(text)
    if heading:
        return f'<span class="kb-h">{inline_html(heading.group("inner"))}</span>'
    if _MD_HEADING.match(text):
        return f'<span class="kb-h">{inline_html(text)}</span>'
    return inline_html(text)


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


def heading_trail(heading_path: Iterable[str]) -> str:
    """`Messaging › SQS › Retention` as safe HTML."""
    return " › ".join(inline_html(h) for h in heading_path)


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


def quote_html(quote: str) -> str:
    """A quoted sentence; a `**` left over from bold text cut in the middle is dropped, not shown."""
    text = " ".join(quote.split())
    if text.count("**") % 2:
        text = text.replace("**", "")
    return inline_html(text)


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


# --- comparison tables --------------------------------------------------------------------------------------


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
