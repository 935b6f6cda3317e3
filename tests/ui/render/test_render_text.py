"""ui/render/text.py: note text is shown as text, images on the author's disk become a marker, links stay links."""

from __future__ import annotations

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


def test_location_is_file_colon_line():
    assert render.location("aws-developer-notes.md", 1261, 1261) == "aws-developer-notes.md:1261"
    assert render.location("aws-developer-notes.md", 1261, 1263) == "aws-developer-notes.md:1261-1263"


def test_a_quote_cut_inside_bold_text_shows_no_stray_asterisks():
    assert render.quote_html("Shard** - the fundamental  unit") == "Shard - the fundamental unit"
    assert render.quote_html("the **persisted** message") == "the <strong>persisted</strong> message"
