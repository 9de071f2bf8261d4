"""Stream names as Mastodon clients give them, and the pure rules of which public stream shows what."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from starling import ids
from starling.errors import BadRequest, Unprocessable
from starling.posts.models import PUBLIC

# Every stream name a client may ask for, with the scope a token needs for it.
SCOPES = {
    "user": "read:statuses",
    "user:notification": "read:notifications",
    "public": "read:statuses",
    "public:media": "read:statuses",
    "public:local": "read:statuses",
    "public:local:media": "read:statuses",
    "public:remote": "read:statuses",
    "public:remote:media": "read:statuses",
    "hashtag": "read:statuses",
    "hashtag:local": "read:statuses",
    "list": "read:statuses",
    "direct": "read:statuses",
}
# Streams anyone may open without a token (Mastodon's rule: public timelines are public).
ANONYMOUS = frozenset({"public", "public:media", "public:local", "public:local:media", "public:remote",
                       "public:remote:media", "hashtag", "hashtag:local"})
MAX_TAG = 100


@dataclass(frozen=True)
class Stream:
    """One subscribed stream: its name and, for `hashtag*` and `list`, the tag (lower case) or list id."""

    name: str
    param: str | None = None

    @property
    def label(self) -> list[str]:
        """The `stream` array Mastodon puts on each WebSocket message."""
        return [self.name] if self.param is None else [self.name, self.param]

    @property
    def personal(self) -> bool:
        return self.name not in ANONYMOUS


def parse(name: str | None, *, tag: str | None = None, list_id: str | None = None) -> Stream:
    """The stream a client named, or BadRequest / Unprocessable with Mastodon's wording."""
    if not name or name not in SCOPES:
        raise BadRequest("Unknown stream type")
    if name.startswith("hashtag"):
        tag = (tag or "").strip().lstrip("#")
        if not tag:
            raise BadRequest("No tag for stream provided")
        if len(tag) > MAX_TAG:
            raise Unprocessable("Validation failed: tag is too long")
        return Stream(name, tag.lower())
    if name == "list":
        if not list_id or ids.parse_id(list_id) is None:
            raise BadRequest("No list for stream provided")
        return Stream(name, list_id)
    return Stream(name)


def on_public_streams(*, visibility: int, boost: bool, reply_to_other: bool, has_media: bool,
                      tags: Collection[str]) -> set[Stream]:
    """The public and hashtag streams a status belongs on: public, top-level or self-thread, not a boost
    (the public timeline's rule). Every status here is local; `public:remote` never gets one."""
    if visibility != PUBLIC or boost or reply_to_other:
        return set()
    found = {Stream("public"), Stream("public:local")}
    if has_media:
        found |= {Stream("public:media"), Stream("public:local:media")}
    for tag in tags:
        found |= {Stream("hashtag", tag), Stream("hashtag:local", tag)}
    return found
