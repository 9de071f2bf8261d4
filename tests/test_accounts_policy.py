"""The pure rules: profile HTML rendering, redirect URIs, scopes and PKCE."""

from __future__ import annotations

import pytest

from starling.accounts import policy
from starling.posts import content


def test_note_is_escaped_linked_and_paragraphed():
    html = policy.render_note('a <img src=x onerror=alert(1)> "q"\r\nb\n\n\nc https://x.example/p?q=1&r=2.')
    assert html.startswith("<p>a &lt;img") and "<img" not in html and "onerror=alert(1)&gt;" in html
    assert html.count("<p>") == 2 and "<br>" in html
    assert 'href="https://x.example/p?q=1&amp;r=2"' in html
    assert html.endswith("</a>.</p>")  # the full stop stays outside the link


def test_only_http_links_survive():
    html = policy.render_note("javascript:alert(1) data:text/html,hi ftp://files.example")
    assert "<a" not in html


def test_long_urls_are_shortened_for_display_but_linked_whole():
    url = "https://example.org/" + "x" * 60
    html = content.render_field_value(url, base_url="https://example.net", domain="example.net", accounts={})
    assert f'href="{url}"' in html and 'class="ellipsis"' in html


def test_blank_note_renders_empty():
    assert policy.render_note("  \n\n ") == ""


def test_sanitize_removes_what_the_renderer_never_makes():
    dirty = '<p onclick="x">ok<script>bad()</script><a href="javascript:x">l</a><iframe></iframe></p>'
    clean = policy.sanitize(dirty)
    assert "onclick" not in clean and "<script" not in clean and "javascript:" not in clean
    assert "<iframe" not in clean


@pytest.mark.parametrize("uri", ["myapp://callback", "com.example.app:/oauth2redirect", "https://a.example/cb",
                                 "http://localhost:4000/cb?x=1", "urn:ietf:wg:oauth:2.0:oob"])
def test_acceptable_redirect_uris(uri):
    assert policy.redirect_uri_problem(uri) is None


@pytest.mark.parametrize("uri", ["/cb", "cb", "https:///cb", "https://a.example/cb#f", "javascript:alert(1)",
                                 "data:text/html,x", "https://a.example/ cb", "https://" + "a" * 2_000])
def test_refused_redirect_uris(uri):
    assert policy.redirect_uri_problem(uri) is not None


def test_redirect_uris_split_from_strings_and_arrays():
    assert policy.split_redirect_uris("a://1\nb://2 c://3") == ["a://1", "b://2", "c://3"]
    assert policy.split_redirect_uris(["a://1", "a://1", 5, "b://2"]) == ["a://1", "b://2"]
    assert policy.split_redirect_uris(None) == []


def test_scopes_within():
    assert policy.scopes_within(["read:statuses", "write"], ["read", "write"])
    assert not policy.scopes_within(["follow"], ["read", "write"])
    assert policy.scopes_within(["read:follows"], ["follow"])


def test_pkce_s256_matches_rfc_7636_example():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert policy.pkce_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert policy.pkce_verifies(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not policy.pkce_verifies("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not policy.pkce_verifies(None, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
