"""Pure rules for accounts and OAuth: profile text rendering, redirect URIs, scopes, PKCE, limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from urllib.parse import urlsplit

import nh3

from starling.accounts import tokens

# Profile limits, as Mastodon sets them by default.
DISPLAY_NAME_MAX = 30
NOTE_MAX = 500
FIELDS_MAX = 4
FIELD_NAME_MAX = 255
FIELD_VALUE_MAX = 255
IMAGE_DESCRIPTION_MAX = 1_500  # avatar_description / header_description, as for media alt text
REASON_MAX = 1_000

# Application limits.
APP_NAME_MAX = 60
WEBSITE_MAX = 500
REDIRECT_URI_MAX = 2_000
REDIRECT_URIS_MAX = 10
OOB = "urn:ietf:wg:oauth:2.0:oob"

POSTING_PRIVACY = ("public", "unlisted", "private")
QUOTE_POLICIES = ("public", "followers", "nobody")
ATTRIBUTION_DOMAINS_MAX = 100  # as Mastodon
# A host name: dot-separated labels of letters, digits and hyphens, not starting or ending with a hyphen.
DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,4})?$")

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_DISPLAY_URL_MAX = 30


def _split_trailing(url: str) -> tuple[str, str]:
    """A URL typed in prose usually ends before trailing punctuation ("see https://x.y.")."""
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        if url[end - 1] == ")" and url[:end].count("(") >= url[:end].count(")"):
            break
        end -= 1
    return url[:end], url[end:]


def _link(url: str) -> str:
    scheme, _, rest = url.partition("://")
    prefix = f"{scheme}://"
    shown, hidden = rest[:_DISPLAY_URL_MAX], rest[_DISPLAY_URL_MAX:]
    ellipsis = " class=\"ellipsis\"" if hidden else " class=\"\""
    return (f'<a href="{html.escape(url, quote=True)}" rel="nofollow noopener noreferrer" target="_blank">'
            f'<span class="invisible">{html.escape(prefix)}</span>'
            f"<span{ellipsis}>{html.escape(shown)}</span>"
            f'<span class="invisible">{html.escape(hidden)}</span></a>')


def linkify(text: str) -> str:
    """Escape `text` and turn http(s) URLs into links (Mastodon's visible/invisible span split)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url, tail = _split_trailing(match.group(0))
        out.append(html.escape(text[last:match.start()]))
        out.append(_link(url) if url.split("://", 1)[1] else html.escape(url))
        out.append(html.escape(tail))
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def sanitize(fragment: str) -> str:
    """The last word on profile HTML: only paragraphs, breaks, spans and http(s) links survive."""
    return nh3.clean(fragment, tags={"p", "br", "a", "span"},
                     attributes={"a": {"href", "target"}, "span": {"class"}},
                     link_rel="nofollow noopener noreferrer", url_schemes={"http", "https"})


def render_note(text: str) -> str:
    """A bio as HTML: blank lines make paragraphs, single newlines make breaks, URLs become links."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return ""
    paragraphs = [p for p in re.split(r"\n{2,}", normalised) if p.strip()]
    body = "".join("<p>" + "<br />".join(linkify(line) for line in p.split("\n")) + "</p>"
                   for p in paragraphs)
    return sanitize(body)


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered as a redirect URI, or None when it can.

    Absolute URIs of any scheme are fine (native apps use custom schemes such as myapp://callback),
    as is the out-of-band URN; fragments are not (RFC 6749 section 3.1.2)."""
    if uri == OOB:
        return None
    if len(uri) > REDIRECT_URI_MAX:
        return "is too long"
    if any(c.isspace() or ord(c) < 0x20 for c in uri):
        return "must be an absolute URI"
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "must be an absolute URI"
    if not parts.scheme or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme):
        return "must be an absolute URI"
    if parts.fragment or "#" in uri:
        return "cannot contain a fragment"
    if parts.scheme.lower() in ("http", "https") and not parts.netloc:
        return "must be an absolute URI"
    if parts.scheme.lower() in ("javascript", "data", "vbscript", "file"):
        return "must be an absolute URI"
    if not parts.netloc and not parts.path:
        return "must be an absolute URI"
    return None


def split_redirect_uris(raw: object) -> list[str]:
    """`redirect_uris` as clients send it: an array, or one string of URIs separated by whitespace."""
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    uris: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        uris.extend(part for part in item.split() if part)
    return list(dict.fromkeys(uris))


def website_problem(website: str) -> str | None:
    if len(website) > WEBSITE_MAX:
        return "is too long"
    parts = urlsplit(website)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "is not a valid URL"
    return None


def scopes_within(requested: list[str], allowed: list[str]) -> bool:
    """Whether every requested scope is granted by the allowed ones (`read` grants `read:statuses`)."""
    held = frozenset(allowed)
    return all(tokens.grants(held, scope) for scope in requested)


_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def pkce_challenge_valid(challenge: str) -> bool:
    return bool(_PKCE_VALUE.match(challenge))


def pkce_s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def pkce_verifies(verifier: str | None, challenge: str) -> bool:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) must equal the challenge stored with the code."""
    if not verifier or not _PKCE_VALUE.match(verifier):
        return False
    return hmac.compare_digest(pkce_s256(verifier), challenge)
