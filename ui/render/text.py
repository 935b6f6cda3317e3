"""Note text as safe HTML: every character from a note is escaped; only links, bold, code and our own tags are markup."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote

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


def heading_trail(heading_path: Iterable[str]) -> str:
    """`Messaging › SQS › Retention` as safe HTML."""
    return " › ".join(inline_html(h) for h in heading_path)


def quote_html(quote: str) -> str:
    """A quoted sentence; a `**` left over from bold text cut in the middle is dropped, not shown."""
    text = " ".join(quote.split())
    if text.count("**") % 2:
        text = text.replace("**", "")
    return inline_html(text)
