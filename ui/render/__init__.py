"""Safe HTML for note text: every character from a note is escaped; only our own tags are markup.

Pure functions (no Streamlit), so the rendering rules are tested directly. text.py escapes a line and keeps its
links, bold and code; notes.py lays lines out as numbered rows and tables; answers.py draws an answer, its
footnotes and passages; compare.py a comparison table. The page's style sheet is ui/style.css.
"""

from __future__ import annotations

from pathlib import Path

from ui.render.answers import (
    abstention_html,
    answer_html,
    citation_marks,
    cited_passages,
    footnotes_html,
    outline_html,
    passage_head_html,
    service_file_html,
)
from ui.render.compare import cell_parts, comparison_html, source_line_html, sources
from ui.render.notes import context_html, lines_html, passage_html, starts_in_table
from ui.render.text import (
    category_title,
    esc,
    inline_html,
    line_html,
    location,
    markdown_escape,
    note_link,
    quote_html,
)

# Read once, when the app starts: Streamlit reruns a page's script on every click, not its imports.
CSS = "<style>\n" + (Path(__file__).resolve().parent.parent / "style.css").read_text(encoding="utf-8") + "</style>\n"

__all__ = [
    "CSS",
    "abstention_html",
    "answer_html",
    "category_title",
    "cell_parts",
    "citation_marks",
    "cited_passages",
    "comparison_html",
    "context_html",
    "esc",
    "footnotes_html",
    "inline_html",
    "line_html",
    "lines_html",
    "location",
    "markdown_escape",
    "note_link",
    "outline_html",
    "passage_head_html",
    "passage_html",
    "quote_html",
    "service_file_html",
    "source_line_html",
    "sources",
    "starts_in_table",
]
