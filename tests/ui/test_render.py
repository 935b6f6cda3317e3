"""ui/render/: note text is shown as text, images on the author's disk become a marker, cited lines stand out."""

from __future__ import annotations

from kb.models import Answer, Cell, CellCitation, Chunk, Citation, ComparisonTable, PassageContext
from ui import render


def test_html_in_a_note_is_displayed_never_run():
    out = render.inline_html("<script>alert('x')</script> <img src=x onerror=alert(1)> & <b>")
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in out
    assert "onerror" not in out and "[image]" in out  # an <img> tag in a note is a marker too
    assert "&amp; &lt;b&gt;" in out


def test_a_typora_image_on_a_local_disk_is_an_image_marker():
    line = r"![1604549225642](C:\Users\akayal\AppData\Roaming\Typora\typora-user-images\1604549225642.png)"
    out = render.inline_html(line)
    assert out == '<span class="kb-img" title="image in the note: 1604549225642.png">[image]</span>'


def test_a_relative_image_is_a_marker_and_a_web_image_a_link():
    assert render.inline_html("  ![diagram](images/step-functions.PNG)") == (
        '  <span class="kb-img" title="image in the note: step-functions.PNG">[image]</span>'
    )
    out = render.inline_html("![x](https://example.com/a.png)")
    assert out.startswith('<a class="kb-img" href="https://example.com/a.png"') and "<img" not in out


def test_only_web_links_become_links():
    out = render.inline_html("see <https://docs.aws.amazon.com/x?a=1&b=2> and [the API](#) and [bad](javascript:alert(1))")
    assert '<a href="https://docs.aws.amazon.com/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">' in out
    assert "the API" in out and 'href="#"' not in out
    assert "javascript" not in out.split("bad")[0] and "href=\"javascript" not in out


def test_bold_and_code_are_kept_and_escaped():
    assert render.inline_html("**persisted** in `<queue>`") == "<strong>persisted</strong> in <code>&lt;queue&gt;</code>"


def test_markdown_and_html_headings_are_bold():
    assert render.line_html("## FIFO Queue") == '<span class="kb-h">## FIFO Queue</span>'
    assert render.line_html("<h2>Other Serverless</h2>") == '<span class="kb-h">Other Serverless</span>'
    assert render.line_html("<h2>x</h2><script>") == "&lt;h2&gt;x&lt;/h2&gt;&lt;script&gt;"


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


def test_location_is_file_colon_line():
    assert render.location("aws-developer-notes.md", 1261, 1261) == "aws-developer-notes.md:1261"
    assert render.location("aws-developer-notes.md", 1261, 1263) == "aws-developer-notes.md:1261-1263"


def test_outline_nests_headings_in_line_order_and_links_to_passages():
    passages = [
        Chunk(id="b", file="f.md", start_line=20, end_line=25, heading_path=["SQS", "FIFO"], text="x"),
        Chunk(id="a", file="f.md", start_line=1, end_line=5, heading_path=["SQS"], text="x"),
        Chunk(id="c", file="f.md", start_line=30, end_line=35, heading_path=["SQS", "FIFO"], text="x"),
    ]
    out = render.outline_html([("f.md", passages)])
    assert out.index('href="#kb-p-a">SQS') < out.index('href="#kb-p-b">FIFO')
    assert 'href="#kb-p-c"' not in out  # one entry a heading


def comparison() -> ComparisonTable:
    cite = CellCitation(file="n.md", start_line=3, end_line=4, quote="shards | partitions", id="p1")
    return ComparisonTable(
        services=["sqs", "kds"],
        aspects=["Retention", "Order"],
        cells=[
            Cell(service="sqs", aspect="Retention", value="4 days", status="conflict", conflict_reason="notes disagree",
                 citations=[cite, CellCitation(file="m.txt", start_line=9, end_line=9, quote="14 days")]),
            Cell(service="kds", aspect="Retention", value="", status="not_in_notes"),
            Cell(service="sqs", aspect="Order", value="best | effort", status="found", citations=[cite]),
        ],
    )


def test_comparison_html_marks_conflicts_and_empty_cells():
    out = render.comparison_html(comparison(), {"sqs": "SQS", "kds": "Kinesis"})
    assert "<th>SQS</th><th>Kinesis</th>" in out
    assert out.count("not in notes") == 2  # the missing cell, and the one the API did not send
    assert "⚠ conflict" in out and "n.md:3-4" in out and "m.txt:9" in out and "notes disagree" in out
    assert 'href="#kb-src-1"' in out and 'href="#kb-src-2"' in out


def test_a_value_joined_from_quotes_gets_a_footnote_per_quote():
    first = CellCitation(file="a.md", start_line=1, end_line=1, quote="4 days  retention")
    second = CellCitation(file="b.md", start_line=2, end_line=2, quote="up to 14 days")
    extra = CellCitation(file="c.md", start_line=3, end_line=3, quote="not in the value")
    cell = Cell(service="sqs", aspect="retention", value="up to 14 days / 4 days retention", status="found",
                citations=[first, second, extra])
    assert render.cell_parts(cell) == [("up to 14 days", [second]), ("4 days retention", [first, extra])]
    table = ComparisonTable(services=["sqs"], aspects=["retention"], cells=[cell])
    out = render.comparison_html(table, {})
    order = ["up to 14 days", 'href="#kb-src-2"', "4 days retention", 'href="#kb-src-1"', 'href="#kb-src-3"']
    assert [out.index(piece) for piece in order] == sorted(out.index(piece) for piece in order)


def test_a_quote_inside_a_labelled_part_still_finds_its_part():
    quote = CellCitation(file="a.md", start_line=1, end_line=1, quote="Ordering at the **shard** level")
    cell = Cell(service="kds", aspect="ordering", value="Kinesis: Ordering at the shard level / 4 days", status="found",
                citations=[quote])
    assert render.cell_parts(cell) == [("Kinesis: Ordering at the shard level", [quote]), ("4 days", [])]


def test_a_quote_cut_inside_bold_text_shows_no_stray_asterisks():
    assert render.quote_html("Shard** - the fundamental  unit") == "Shard - the fundamental unit"
    assert render.quote_html("the **persisted** message") == "the <strong>persisted</strong> message"


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
