"""ui/render/answers.py: [n] markers link to their passage, footnotes name file and line, outlines nest."""

from __future__ import annotations

from kb.models import Answer, Chunk, Citation
from ui import render


def answer(text: str = "Kept 4 days [1]. Also <b> [2] and [7].") -> Answer:
    return Answer(
        question="q",
        answer=text,
        abstained=False,
        citations=[
            Citation(n=1, id="p:1", file="a.md", start_line=5, end_line=5, quote="4 days"),
            Citation(n=2, id="p:1", file="a.md", start_line=6, end_line=7, quote="x", context="GSI <global>"),
        ],
        passages=[],
    )


def test_answer_markers_link_to_their_passage_and_text_is_escaped():
    out = render.answer_html(answer())
    assert 'href="#kb-p-p-1"' in out and ">1</a>" in out and ">2</a>" in out
    assert "[7]" in out  # a marker with no citation stays as written
    assert "&lt;b&gt;" in out


def test_an_answer_line_quoting_one_citation_opens_with_its_context():
    out = render.answer_html(answer("Kept 4 days [1]\nCan be created at will [2]\nBoth [1] [2]"))
    lines = out.split("\n")
    assert "kb-context" not in lines[0]  # citation 1 has no context
    assert lines[1].startswith('<span class="kb-context kb-muted-context">GSI &lt;global&gt; ›</span> Can be created')
    assert "kb-context" not in lines[2]  # two citations: no single context to show


def test_footnotes_name_file_and_line():
    out = render.footnotes_html(answer())
    assert "a.md:5" in out and "a.md:6-7" in out and "— “4 days”" in out
    # What the quote sits under comes before it, escaped.
    assert '— <span class="kb-context">GSI &lt;global&gt;:</span> “x”' in out


def test_citation_marks_cover_every_line_of_a_citation():
    assert render.citation_marks(answer(), "p:1") == {5: [1], 6: [2], 7: [2]}
    assert render.citation_marks(answer(), "other") == {}


def test_outline_nests_headings_in_line_order_and_links_to_passages():
    passages = [
        Chunk(id="b", file="f.md", start_line=20, end_line=25, heading_path=["SQS", "FIFO"], text="x"),
        Chunk(id="a", file="f.md", start_line=1, end_line=5, heading_path=["SQS"], text="x"),
        Chunk(id="c", file="f.md", start_line=30, end_line=35, heading_path=["SQS", "FIFO"], text="x"),
    ]
    out = render.outline_html([("f.md", passages)])
    assert out.index('href="#kb-p-a">SQS') < out.index('href="#kb-p-b">FIFO')
    assert 'href="#kb-p-c"' not in out  # one entry a heading
