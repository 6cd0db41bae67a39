"""A target's guidelines as sanitised HTML, and its aliases marked in the sentences."""

from __future__ import annotations

from annotate.guidelines import alias_pattern, guidelines_html, mark_aliases


def test_markdown_becomes_html():
    html = guidelines_html("**pro**: supports it.\n\n- one\n- two")
    assert "<strong>pro</strong>" in html
    assert "<ul>\n<li>one</li>" in html


def test_raw_html_is_shown_as_text_not_run():
    html = guidelines_html('<script>alert(1)</script>\n\nHi <img src=x onerror="alert(2)"> there')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_a_javascript_link_loses_its_address_and_an_http_link_keeps_it():
    html = guidelines_html("[bad](javascript:alert(1)) [good](https://example.org/g)")
    assert "javascript:" not in html
    assert 'href="https://example.org/g"' in html
    assert 'rel="noopener noreferrer"' in html


def test_headings_move_below_the_pages_own():
    html = guidelines_html("# Scope\n\n## Edge cases")
    assert "<h3>Scope</h3>" in html and "<h4>Edge cases</h4>" in html
    assert "<h1>" not in html and "<h2>" not in html


def test_aliases_are_marked_as_whole_words_in_any_case():
    pattern = alias_pattern(["Huawei", "the Chinese firm"])
    marked = mark_aliases("HUAWEI said the chinese  firm and Huaweis rivals", pattern)
    assert marked == (
        '<mark class="alias">HUAWEI</mark> said <mark class="alias">the chinese  firm</mark> and Huaweis rivals'
    )


def test_the_longest_alias_wins_where_two_overlap():
    pattern = alias_pattern(["Huawei", "Huawei Technologies"])
    assert (
        mark_aliases("Huawei Technologies Ltd", pattern)
        == '<mark class="alias">Huawei Technologies</mark> Ltd'
    )


def test_the_text_around_and_inside_a_mark_is_escaped():
    pattern = alias_pattern(["<b>Co</b>"])
    marked = mark_aliases("<i>x</i> & <b>Co</b>", pattern)
    assert marked == '&lt;i&gt;x&lt;/i&gt; &amp; <mark class="alias">&lt;b&gt;Co&lt;/b&gt;</mark>'


def test_no_aliases_mark_nothing_and_still_escape():
    assert alias_pattern(["", "  "]) is None
    assert mark_aliases("a < b", None) == "a &lt; b"
