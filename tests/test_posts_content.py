"""Plain text -> safe HTML, mention and hashtag extraction, and Mastodon's length rule (pure functions)."""

from __future__ import annotations

from starling.posts.content import mention_candidates, render, status_length

BASE = "https://social.test"
ACCOUNTS = {"bob": "Bob", "carol": "carol"}


def html(text: str) -> str:
    return render(text, base_url=BASE, domain="social.test", accounts=ACCOUNTS).html


def test_paragraphs_and_line_breaks():
    assert html("one\ntwo\n\n\nthree") == "<p>one<br>two</p><p>three</p>"
    assert html("  \r\n  ") == ""
    assert html("a\r\nb") == "<p>a<br>b</p>"


def test_markup_typed_by_a_person_is_escaped():
    out = html('<script>alert("x")</script> <b onclick=1>hi</b> & <img src=x onerror=alert(1)>')
    assert "<script" not in out and "<b" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&amp;" in out


def test_urls_become_safe_links_with_the_visible_text_shortened():
    out = html("see https://example.com/a/rather/long/path/indeed/yes?q=1&r=2.")
    assert '<a href="https://example.com/a/rather/long/path/indeed/yes?q=1&amp;r=2"' in out
    assert 'rel="nofollow noopener noreferrer"' in out and 'target="_blank"' in out
    assert '<span class="invisible">https://</span>' in out
    assert '<span class="ellipsis">example.com/a/rather/long/path</span>' in out
    assert out.endswith("</a>.</p>")  # the full stop is not part of the URL


def test_link_xss_attempts_stay_inert():
    for attack in ('https://x.test/"onmouseover="alert(1)', "javascript:alert(1)",
                   'https://x.test/<script>alert(1)</script>', "https://x.test/'><svg onload=alert(1)>",
                   "data:text/html;base64,PHNjcmlwdD4=", "<a href='javascript:alert(1)'>x</a>"):
        out = html(attack)
        assert "onmouseover=" not in out.replace("&quot;", '"').split('href="')[0]
        assert "<script" not in out and "<svg" not in out
        assert 'href="javascript' not in out and 'href="data' not in out
        assert "onload" not in out.split(">")[0]
    # A quote cannot end the href early: the URL stops at it.
    assert 'href="https://x.test/"' in html('https://x.test/"onmouseover="alert(1)')


def test_brackets_around_urls():
    assert 'href="https://x.test/a_(b)"' in html("(https://x.test/a_(b))")
    assert 'href="https://x.test/page"' in html("(see https://x.test/page)")


def test_mentions_of_existing_local_accounts_are_linked():
    text = "hi @bob and @BOB and @carol@social.test, not @nobody or @bob@elsewhere.test or a@bob.com"
    rendered = render(text, base_url=BASE, domain="social.test", accounts=ACCOUNTS)
    assert ('<span class="h-card" translate="no"><a href="https://social.test/@Bob" class="u-url mention">'
            '@<span>Bob</span></a></span>') in rendered.html
    assert "@nobody" in rendered.html and "@bob@elsewhere.test" in rendered.html
    assert rendered.mentions == ["bob", "carol"]
    assert mention_candidates("@a @B @c@social.test @d@other.test x@e", "social.test") == {"a", "b", "c"}


def test_hashtags_are_linked_and_extracted_once_each():
    rendered = render("#Python and #python, #café, #123, url#frag, (#ok)", base_url=BASE,
                      domain="social.test", accounts={})
    assert ('<a href="https://social.test/tags/Python" class="mention hashtag" rel="tag">'
            '#<span>Python</span></a>') in rendered.html
    assert rendered.tags == ["Python", "café", "ok"]
    assert "#123" in rendered.html and "tags/123" not in rendered.html
    assert "url#frag" in rendered.html


def test_hashtags_inside_urls_are_not_tags():
    rendered = render("https://x.test/#anchor @bob", base_url=BASE, domain="social.test", accounts=ACCOUNTS)
    assert rendered.tags == [] and rendered.mentions == ["bob"]


def test_length_counts_urls_as_23_and_mentions_by_username():
    assert status_length("hello") == 5
    assert status_length("https://example.com/" + "a" * 200) == 23
    assert status_length("go https://x.test/a.") == 3 + 23 + 1
    assert status_length("@bob@very.long.remote.example.org") == len("@bob")
    assert status_length("body", "warning") == 4 + 7


def test_length_counts_what_people_see_as_one_character():
    assert status_length("👍🏽") == 1
    assert status_length("👨‍👩‍👧") == 1
    assert status_length("🇫🇷🇩🇪") == 2
    assert status_length("e\u0301") == 1
