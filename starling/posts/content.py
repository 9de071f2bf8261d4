"""Plain text as people type it -> the safe HTML Mastodon clients expect, and Mastodon's length rule.

Everything the person typed is escaped; the only markup is what we add: paragraphs, line breaks, and
links for URLs, @mentions of local accounts and #hashtags. A final nh3 pass with a tight allow-list
guards against any mistake in the code above it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import nh3

URL_LENGTH = 23  # every URL counts as this many characters, however long it is
LINK_REL = "nofollow noopener noreferrer"
# Profile field links also say rel="me", as Mastodon's do (the link points at the person's own page).
FIELD_LINK_REL = f"me {LINK_REL}"
MAX_TAG_LENGTH = 100
_DISPLAY_CHARS = 30

# One scanner for the three kinds of entity; the leftmost match wins, so a URL swallows any @ or #
# inside it. Mentions and hashtags must not follow a word character (e-mail addresses, a#b) or "/".
_ENTITIES = re.compile(
    r"(?P<url>(?<![\w@])https?://[^\s<>\"'`]+)"
    r"|(?<![\w/])@(?P<user>[A-Za-z0-9_]+(?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?:@(?P<domain>[\w.-]*\w(?::\d+)?))?"
    r"|(?<![\w/)])#(?P<tag>\w+)",
    re.IGNORECASE,
)
_TRAILING = ".,:;!?'\"*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_URL_PREFIX = re.compile(r"^https?://(www\.)?", re.IGNORECASE)

_SANITIZER_TAGS = {"p", "br", "a", "span"}
_SANITIZER_ATTRIBUTES = {"a": {"href", "rel", "target", "translate"}, "span": {"translate"}}
_SANITIZER_CLASSES = {"a": {"u-url", "mention", "hashtag"}, "span": {"h-card", "invisible", "ellipsis"}}


@dataclass(frozen=True)
class Rendered:
    html: str
    mentions: list[str]  # lower-case usernames of the local accounts linked, first occurrence first
    tags: list[str]  # hashtags as first typed, one per lower-case name


def normalise(text: str) -> str:
    """What we store as the source: newlines unified, outer whitespace stripped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and closing brackets that the URL did not open."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last]):
            url = url[:-1]
        else:
            break
    return url


def _is_tag(name: str) -> bool:
    return len(name) <= MAX_TAG_LENGTH and any(ch.isalpha() for ch in name)


def _is_local(domain: str | None, local_domains: frozenset[str]) -> bool:
    return domain is None or domain.lower() in local_domains


def _local_domains(domain: str) -> frozenset[str]:
    return frozenset({domain.lower(), domain.split(":")[0].lower()})


def mention_candidates(text: str, domain: str) -> set[str]:
    """Lower-case usernames that would become mentions if such local accounts exist."""
    local = _local_domains(domain)
    return {m.group("user").lower() for m in _ENTITIES.finditer(text)
            if m.group("user") and _is_local(m.group("domain"), local)}


def _link_url(url: str, rel: str = LINK_REL) -> str:
    prefix = _URL_PREFIX.match(url)
    cut = prefix.end() if prefix else 0
    rest = url[cut:]
    shown, hidden = rest[:_DISPLAY_CHARS], rest[_DISPLAY_CHARS:]
    ellipsis = ' class="ellipsis"' if hidden else ""
    return (f'<a href="{html.escape(url)}" target="_blank" rel="{rel}" translate="no">'
            f'<span class="invisible">{html.escape(url[:cut])}</span>'
            f'<span{ellipsis}>{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span></a>')


class _LineRenderer:
    def __init__(self, base_url: str, domain: str, accounts: Mapping[str, str], link_rel: str = LINK_REL):
        self.base_url = base_url.rstrip("/")
        self.link_rel = link_rel
        self.local = _local_domains(domain)
        self.accounts = accounts
        self.mentions: dict[str, None] = {}
        self.tags: dict[str, str] = {}

    def _entity(self, match: re.Match) -> tuple[str, str]:
        """(html, trailing text to escape) for one scanner match."""
        raw = match.group(0)
        if match.group("url"):
            url = _trim_url(raw)
            if len(url) <= len("https://"):
                return html.escape(raw), ""
            return _link_url(url, self.link_rel), raw[len(url):]
        if match.group("user"):
            username = self.accounts.get(match.group("user").lower())
            if username is None or not _is_local(match.group("domain"), self.local):
                return html.escape(raw), ""
            self.mentions.setdefault(username.lower(), None)
            href = html.escape(f"{self.base_url}/@{username}")
            return (f'<span class="h-card" translate="no"><a href="{href}" class="u-url mention">'
                    f'@<span>{html.escape(username)}</span></a></span>'), ""
        name = match.group("tag")
        if not _is_tag(name):
            return html.escape(raw), ""
        self.tags.setdefault(name.lower(), name)
        href = html.escape(f"{self.base_url}/tags/{quote(name)}")
        return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{html.escape(name)}</span></a>', ""

    def line(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for match in _ENTITIES.finditer(text):
            out.append(html.escape(text[pos:match.start()]))
            markup, tail = self._entity(match)
            out.append(markup)
            out.append(html.escape(tail))
            pos = match.end()
        out.append(html.escape(text[pos:]))
        return "".join(out)


def sanitise(fragment: str) -> str:
    """The allow-list every status body passes through last."""
    return nh3.clean(fragment, tags=_SANITIZER_TAGS, attributes=_SANITIZER_ATTRIBUTES,
                     allowed_classes=_SANITIZER_CLASSES, link_rel=None, url_schemes={"http", "https"},
                     strip_comments=True)


def render(text: str, *, base_url: str, domain: str, accounts: Mapping[str, str]) -> Rendered:
    """HTML for `text`. `accounts` maps lower-case usernames of existing local accounts to their
    canonical spelling; @names not in it stay plain text."""
    text = normalise(text)
    renderer = _LineRenderer(base_url, domain, accounts)
    if not text:
        return Rendered(html="", mentions=[], tags=[])
    paragraphs = [p for p in re.split(r"\n{2,}", text) if p.strip()]
    body = "".join("<p>" + "<br>".join(renderer.line(line) for line in p.split("\n")) + "</p>"
                   for p in paragraphs)
    return Rendered(html=sanitise(body), mentions=list(renderer.mentions), tags=list(renderer.tags.values()))


def render_field_value(text: str, *, base_url: str, domain: str, accounts: Mapping[str, str]) -> str:
    """HTML for a profile field's value: one line, linked as a post is (URLs, #tags, local @names),
    with rel="me" on its links, through the same sanitiser."""
    line = " ".join(normalise(text).split())
    return sanitise(_LineRenderer(base_url, domain, accounts, FIELD_LINK_REL).line(line))


def _countable(text: str) -> str:
    def shorten(match: re.Match) -> str:
        raw = match.group(0)
        if match.group("url"):
            url = _trim_url(raw)
            return "x" * URL_LENGTH + raw[len(url):] if len(url) > len("https://") else raw
        if match.group("user"):
            return "@" + match.group("user")  # a mention counts only its username part
        return raw

    return _ENTITIES.sub(shorten, text)


def grapheme_length(text: str) -> int:
    """Roughly what a person sees as characters: combining marks, variation selectors, skin tones,
    zero-width-joined emoji and flag pairs count once with what they attach to."""
    count = 0
    joined = False
    pending_flag = False
    for ch in text:
        cp = ord(ch)
        if joined:
            joined = False
            continue
        if cp == 0x200D:
            joined = True
            continue
        if (unicodedata.category(ch) in ("Mn", "Me", "Mc") or 0xFE00 <= cp <= 0xFE0F
                or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F):
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:
            if pending_flag:
                pending_flag = False
                continue
            pending_flag = True
            count += 1
            continue
        pending_flag = False
        count += 1
    return count


def status_length(text: str, spoiler_text: str = "") -> int:
    """Mastodon's rule: URLs count 23, mentions their username only, spoiler text counts too."""
    return grapheme_length(_countable(normalise(text))) + grapheme_length(normalise(spoiler_text))
