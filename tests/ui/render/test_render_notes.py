"""ui/render/notes.py: cited lines stand out, a passage shows in its place in the note, a slice within its line."""

from __future__ import annotations

from kb.models import Chunk, PassageContext
from ui import render


def test_cited_lines_are_highlighted_and_numbered():
    chunk = Chunk(id="c1", file="f.md", start_line=10, end_line=13, text="a\n\nb\nc")
    out = render.passage_html(chunk, {12: [1, 3]})
    assert '<div class="kb-line"><span class="kb-ln">10</span><span class="kb-tx">a</span>' in out
    assert '<div class="kb-line kb-blank"><span class="kb-ln">11</span>' in out
    assert (
        '<div class="kb-line kb-hit"><span class="kb-ln">12</span><span class="kb-tx">b</span>'
        '<span class="kb-mk"><span class="kb-ref">1</span><span class="kb-ref">3</span></span></div>'
    ) in out
    assert '<span class="kb-ln">13</span>' in out


def test_context_shows_the_lines_around_a_passage_muted():
    chunk = Chunk(id="c1", file="f.md", start_line=10, end_line=10, text="hit")
    context = PassageContext(passage=chunk, before=["b8", "b9"], after=["a11"], before_start_line=8, after_end_line=11)
    out = render.context_html(context, {10: [1]})
    assert out.index(">8<") < out.index(">9<") < out.index(">10<") < out.index(">11<")
    assert out.count("kb-muted") == 3 and "kb-hit" in out


def test_a_slice_of_a_long_line_is_highlighted_within_its_line():
    line = "A" * 500 + " The cited sentence about SQS. " + "B" * 500
    start = line.index("The cited")
    end = start + len("The cited sentence about SQS.")
    chunk = Chunk(id="s", file="big/long.md", start_line=7, end_line=7, text=line[start:end], start_char=start, end_char=end)
    html = render.context_html(
        PassageContext(passage=chunk, before=["x"], after=[], before_start_line=6, after_end_line=7, line=line)
    )
    assert '<mark class="kb-slice">The cited sentence about SQS.</mark>' in html
    assert "A" * 161 not in html and "B" * 161 not in html  # the rest of the line is shortened around the slice
    assert "chars 501–530 of line 7" in render.passage_head_html(chunk)
    alone = render.passage_html(chunk)
    assert '<mark class="kb-slice">The cited sentence about SQS.</mark>' in alone and ">7<" in alone
