"""The parts of a page the parser finds by structure, on small pages: the "Last updated" stamp in
every form the site has used (D6), the article without the site's chrome (L4) and headings that
are bold paragraphs (L5)."""

from __future__ import annotations

import pytest

from orchestration.core.reference import load_reference
from orchestration.parsing import HISTORICAL, ParseError, parse_page

REFERENCE = load_reference()
TODAY = "<p>Today, some 5,000 KFOR troops are deployed in Kosovo.</p>"


def page(body: str, head: str = "<title>NATO's role in Kosovo</title>"):
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    return parse_page(html.encode(), "text/html; charset=utf-8", REFERENCE, HISTORICAL)


# -- D6: the stamp ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "stamp"), [
    ("Last updated: 20 Nov. 2023 17:24", "20 Nov 2023 17:24"),
    ("Last updated: 05-Nov-2013 11:43", "05 Nov 2013 11:43"),
    ("Last updated 16-Dec-2010 16:26", "16 Dec 2010 16:26"),
    ("Last updated: 16-Dec-2010", "16 Dec 2010"),
    ("Last Updated: 5 November 2013", "05 Nov 2013"),
    ("last updated on 05-NOV-2013 11:43", "05 Nov 2013 11:43"),
    ("Last updated: 1-Mar-2009 9:05", "01 Mar 2009 09:05"),
    ("Last updated: 31-Jan-2012 23:59:59", "31 Jan 2012 23:59"),
    ("Last updated: 2023-11-20T17:24", "20 Nov 2023 17:24"),
    ("Last updated: 2023-11-20", "20 Nov 2023"),
    ("Last updated: Nov. 5, 2013 11:43", "05 Nov 2013 11:43"),
])
def test_every_form_of_the_stamp_is_one_stamp(line: str, stamp: str) -> None:
    parsed = page(f"<h1>NATO's role in Kosovo</h1><p>{line}</p>{TODAY}")
    assert parsed.last_updated_text == stamp
    assert parsed.article_text.split("\n")[:2] == ["NATO's role in Kosovo", f"Last updated: {stamp}"]
    assert line not in parsed.article_text  # the stamp's own line is read once, as the stamp


@pytest.mark.parametrize("line", ["Last updated: 20/11/2023", "Last updated: 11/20/2023",
                                  "Last updated: recently", "Last updated: Nov 2023"])
def test_a_form_that_is_not_a_day_is_no_stamp(line: str) -> None:
    assert page(f"<h1>NATO's role in Kosovo</h1><p>{line}</p>{TODAY}").last_updated_text is None


def test_the_old_and_the_new_form_of_one_stamp_agree_and_two_stamps_conflict() -> None:
    both = "<p>Last updated: 05-Nov-2013 11:43</p><p>Last updated: 5 Nov. 2013</p>"
    assert page(f"<h1>NATO's role in Kosovo</h1>{both}{TODAY}").last_updated_text == \
        "05 Nov 2013 11:43"
    with pytest.raises(ParseError) as raised:
        page("<p>Last updated: 05-Nov-2013 11:43</p><h1>NATO's role in Kosovo</h1>"
             f"<p>Last updated: 06-Nov-2013 11:43</p>{TODAY}")
    assert raised.value.check == "last_updated_conflict"


def test_a_stamp_before_the_h1_or_in_a_footer_is_the_pages_stamp() -> None:
    """D6, L4: the article starts at the <h1>; the stamp is looked for in the whole document."""
    before = page("<div class='date'>Last updated: 05-Nov-2013 11:43</div>"
                  f"<div><h1>NATO's role in Kosovo</h1>{TODAY}</div>")
    footer = page(f"<div><h1>NATO's role in Kosovo</h1>{TODAY}</div>"
                  "<footer>Last updated: 05-Nov-2013 11:43</footer>")
    assert before.last_updated_text == footer.last_updated_text == "05 Nov 2013 11:43"
    assert before.content_sha256 == footer.content_sha256


# -- L4: the article, not the page -------------------------------------------------------------------

MENU = ("<ul><li><a href='/'>Home</a></li><li><a href='/a-z'>NATO A-Z</a></li>"
        "<li><a href='/news'>News: 12 June 2009 - 4,000 troops leave</a></li></ul>")


@pytest.mark.parametrize("chrome", [
    MENU,
    f"<nav>{MENU}</nav>",
    f"<div role='navigation'>{MENU}</div>",
    "<footer><p>Last words: the 2,000 troops of 2009</p></footer>",
    "<p>&copy; NATO 2010 | <a href='/c'>Contact</a></p>",
    "<p>Copyright NATO 2013</p>",
    "<p><a href='/related'>Related: the 3,000 troops of 2004</a></p>",
    "<div class='tools'><a href='#'>Print</a> | <a href='#'>E-mail this page</a></div>",
])
def test_navigation_inside_the_article_is_left_out(chrome: str) -> None:
    plain = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}<p>KFOR entered Kosovo on 12 June "
                 "1999.</p>")
    with_chrome = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}{chrome}<p>KFOR entered Kosovo on "
                       "12 June 1999.</p>")
    assert with_chrome == plain


def test_without_main_the_article_is_the_h1_and_what_follows_in_the_cell_that_holds_the_text(
        ) -> None:
    layout = ("<table><tr><td>{left}</td><td><p>Home &gt; Topics &gt; Kosovo</p>"
              "<h1>NATO's role in Kosovo</h1>" + TODAY + "<p>KFOR entered Kosovo on 12 June "
              "1999, in the wake of a 78-day air campaign launched in March 1999.</p></td>"
              "<td><p>In focus: Ministers met on 3 May 2010 and 2,000 troops left.</p></td></tr>"
              "</table>")
    parsed = page(layout.format(left=MENU))
    assert parsed.article_text.split("\n")[1:] == [
        "NATO's role in Kosovo", "Today, some 5,000 KFOR troops are deployed in Kosovo.",
        "KFOR entered Kosovo on 12 June 1999, in the wake of a 78-day air campaign launched in "
        "March 1999."]
    assert page(layout.format(left="")) == parsed


def test_an_article_element_that_is_a_teaser_is_not_the_article() -> None:
    teaser = "<article><h3>News</h3><p>On 3 May 2010, 2,000 troops left.</p></article>"
    parsed = page(f"<div>{teaser}</div><div><h1>NATO's role in Kosovo</h1>{TODAY}"
                  "<p>KFOR entered Kosovo on 12 June 1999 with some 50,000 men and women.</p>"
                  "</div>")
    assert "News" not in parsed.article_text
    assert [e.period_text for e in parsed.events] == ["12 Jun 1999"]


def test_a_logo_h1_that_is_a_link_is_not_the_title() -> None:
    parsed = page(f"<h1><a href='/'>NATO</a></h1>{MENU}<div><h1>NATO's role in Kosovo</h1>"
                  f"{TODAY}</div>")
    assert parsed.title == "NATO's role in Kosovo"
    assert "NATO A-Z" not in parsed.article_text


def test_without_an_h1_the_article_starts_at_the_block_that_says_the_title() -> None:
    parsed = page(f"<div><p>Home &gt; <a href='/'>Topics</a></p><p><b>NATO's role in "
                  f"Kosovo</b></p>{TODAY}</div>", head="<title>NATO Topics: NATO's role in "
                                                       "Kosovo</title>")
    assert parsed.article_text.split("\n") == [
        "NATO's role in Kosovo", "NATO's role in Kosovo",
        "Today, some 5,000 KFOR troops are deployed in Kosovo."]


def test_without_h1_or_title_block_the_container_is_never_a_data_table() -> None:
    rows = "".join(f"<tr><td>row {i} of a long table of data cells</td></tr>" for i in range(30))
    parsed = page(f"<table><tr><td><p>Intro.</p>{TODAY}<table>{rows}</table></td></tr></table>",
                  head="<title>Kosovo</title>")
    assert "Today, some 5,000 KFOR troops" in parsed.article_text


# -- L5: headings ------------------------------------------------------------------------------------

def test_a_short_bold_block_before_body_text_is_a_heading() -> None:
    parsed = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}<h2>History</h2><p><b>Background</b></p>"
                  "<p>KFOR entered Kosovo on 12 June 1999.</p><p><strong>Gate 1</strong></p>"
                  "<p><strong>Reductions</strong></p><p>By early 2002, KFOR was reduced.</p>")
    assert [(s.level, s.heading_path) for s in parsed.sections] == [
        (1, "NATO's role in Kosovo"), (2, "History"), (3, "History > Background"),
        (3, "History > Gate 1"), (3, "History > Reductions")]
    assert [e.section for e in parsed.events] == ["History > Background", "History > Reductions"]


@pytest.mark.parametrize("block", [
    "<p><b>NATO has been leading a peace-support operation in Kosovo since June 1999.</b></p>",
    "<p><b>09 Jun 1999 - 08 Oct 1999</b></p>",
    "<p><b>Background</b> and context</p>",
    "<p><b>Background</b><br>and context</p>",
    "<table><tr><td><b>Period</b></td><td><b>Commander</b></td></tr></table>",
    "<p><b>" + "word " * 13 + "</b></p>",
])
def test_what_is_no_heading(block: str) -> None:
    parsed = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}{block}<p>Body text follows.</p>")
    assert [s.heading for s in parsed.sections] == ["NATO's role in Kosovo"]


def test_a_bold_block_at_the_end_is_no_heading() -> None:
    parsed = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}<p><b>Related</b></p>")
    assert len(parsed.sections) == 1


def test_the_same_figure_for_today_stated_twice_is_one_figure() -> None:
    """L1: the highlights and the text may both state today's figure; two different ones refuse."""
    twice = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}<p>KFOR consists of approximately 5,000 "
                 "troops.</p>")
    assert {f.troops_text for f in twice.troop_figures if f.period_text == "today"} == {"5,000"}
    with pytest.raises(ParseError) as raised:
        page(f"<h1>NATO's role in Kosovo</h1>{TODAY}<p>KFOR consists of 5,500 troops.</p>")
    assert raised.value.check == "today_figure_ambiguous"


def test_an_h1_that_is_the_sites_name_gives_way_to_the_title() -> None:
    parsed = page("<div><h1>NATO Topics</h1><ul><li><a href='/a'>A-Z</a></li><li><a href='/b'>"
                  "News</a></li></ul></div><div><h2>NATO's role in Kosovo</h2>" + TODAY
                  + "<h3>Background</h3><p>KFOR entered Kosovo on 12 June 1999.</p></div>",
                  head="<title>NATO Topics: NATO's role in Kosovo</title>")
    assert parsed.title == "NATO's role in Kosovo"
    assert "NATO Topics" not in parsed.article_text
    assert [s.heading for s in parsed.sections] == ["NATO's role in Kosovo", "Background"]


def test_an_h1_that_starts_a_title_of_the_form_title_dash_site_is_the_title() -> None:
    parsed = page(f"<h1>NATO's role in Kosovo</h1>{TODAY}",
                  head="<title>NATO's role in Kosovo - NATO Topics</title>")
    assert parsed.title == "NATO's role in Kosovo"
