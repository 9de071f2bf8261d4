"""Who hears of an event, and whether they may: the streaming API's audience and authorisation rules,
decided for every listener of an event together in a fixed number of queries (never one per listener).

The rules are the timelines' own: the user stream gets what fan-out puts in a home feed, public streams
what the public timeline shows, and nobody gets a status that the posts policy hides from them, or one
by, boosting or replying to an account they block, are blocked by, or mute.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts import repository as accounts_repository
from starling.graph import repository as graph
from starling.media import repository as media_repository
from starling.posts import policy
from starling.posts import repository as posts_repository
from starling.posts.models import DIRECT, PRIVATE, Status
from starling.streaming import streams
from starling.streaming.streams import Stream
from starling.timelines import repository as timelines_repository


@dataclass
class StatusFacts:
    """A status as the rules need it: the row, its boosted original, tags, mentions, media, and which of
    its authors are suspended or limited (moderation: shown to their followers only)."""

    status: Status
    original: Status | None
    tags: set[str] = field(default_factory=set)
    mentioned: dict[int, set[int]] = field(default_factory=dict)  # status id -> accounts mentioned
    has_media: bool = False
    suspended: set[int] = field(default_factory=set)
    limited: set[int] = field(default_factory=set)

    @property
    def subject(self) -> Status:
        return self.original or self.status

    @property
    def authors(self) -> set[int]:
        return {self.status.account_id} | ({self.original.account_id} if self.original else set())

    @property
    def reply_to_other(self) -> bool:
        s = self.status
        return s.in_reply_to_id is not None and s.in_reply_to_account_id != s.account_id


async def status_facts(session: AsyncSession, status_id: int) -> StatusFacts | None:
    """The facts for one status, or None when it (or the original it boosts) is gone."""
    status = await posts_repository.by_id(session, status_id)
    if status is None:
        return None
    original = None
    if status.reblog_of_id is not None:
        original = await posts_repository.by_id(session, status.reblog_of_id)
        if original is None:
            return None
    facts = StatusFacts(status, original)
    ids = [status.id] + ([original.id] if original else [])
    facts.tags = {tag.name for sid, tag in await posts_repository.tags_of(session, [facts.subject.id])}
    for sid, account_id in await posts_repository.mentions_of(session, ids):
        facts.mentioned.setdefault(sid, set()).add(account_id)
    facts.has_media = bool((await media_repository.of_statuses(session, [facts.subject.id])).get(facts.subject.id))
    accounts = await accounts_repository.by_ids(session, facts.authors)
    facts.suspended = {a for a in facts.authors if a not in accounts or accounts[a].suspended_at is not None}
    facts.limited = {a for a in facts.authors if a in accounts and accounts[a].silenced_at is not None}
    return facts


def public_streams(facts: StatusFacts) -> set[Stream]:
    """The public and hashtag streams the status belongs on."""
    return streams.on_public_streams(visibility=facts.status.visibility, boost=facts.original is not None,
                                     reply_to_other=facts.reply_to_other, has_media=facts.has_media,
                                     tags=facts.tags)


async def home_audience(session: AsyncSession, facts: StatusFacts, candidates: Collection[int]) -> set[int]:
    """Which of `candidates` get the status in their home feed (fan-out's rules: the author, followers,
    the mentioned for a direct status; boosts only for those who want the booster's boosts; a reply to
    someone else only for those who follow that someone too; nobody who keeps the author in an exclusive
    list)."""
    wanted = set(candidates)
    status = facts.status
    author = status.account_id
    audience = {author} & wanted
    if status.visibility == DIRECT:
        return audience | (facts.mentioned.get(status.id, set()) & wanted)
    if status.in_reply_to_id is not None and status.in_reply_to_account_id is None:
        return audience
    reply_to = status.in_reply_to_account_id if status.in_reply_to_account_id not in (None, author) else None
    rows = await graph.follows_from_among(session, wanted - {author}, {author} | ({reply_to} if reply_to else set()))
    followers = {a for a, target, reblogs in rows if target == author and (reblogs or facts.original is None)}
    if reply_to is not None:
        followers &= {a for a, target, _ in rows if target == reply_to} | {reply_to}
    if facts.original is not None:
        followers.discard(facts.original.account_id)
    followers -= await timelines_repository.exclusive_listers_among(session, author, followers)
    return audience | followers


async def list_audience(session: AsyncSession, facts: StatusFacts, list_ids: Collection[int]) -> set[int]:
    """Which of `list_ids` show the status: its author is a member the owner follows; replies to others
    are left out of lists whose replies policy is `none`."""
    shown = await timelines_repository.lists_showing_author(session, list_ids, facts.status.account_id)
    return {list_id for list_id, replies in shown.items() if replies != "none" or not facts.reply_to_other}


async def visible_to(session: AsyncSession, facts: StatusFacts, viewers: Collection[int | None]) -> set[int | None]:
    """Which of `viewers` (None: logged out) may be shown the status: the posts policy (visibility,
    suspensions, limited authors seen only by their followers and those they mention, quarantine,
    blocks), and no block or mute between the viewer and its author, its original's author or the
    account it replies to. Three queries at most, whatever the number of viewers."""
    if facts.authors & facts.suspended:
        return set()
    status, original = facts.status, facts.original
    logged_in = {v for v in viewers if v is not None}
    related = facts.authors | ({status.in_reply_to_account_id} if status.in_reply_to_account_id else set())
    hidden = await graph.blocking_either_way_among(session, logged_in, related)
    hidden |= await graph.muting_among(session, logged_in - hidden, related)
    following: dict[int, set[int]] = {}
    # Who follows whom is needed for a private post and for a limited author (one query for everyone).
    if facts.limited or any(s is not None and s.visibility == PRIVATE for s in (status, original)):
        for follower, target, _ in await graph.follows_from_among(session, logged_in - hidden, facts.authors):
            following.setdefault(follower, set()).add(target)
    allowed: set[int | None] = set()
    for viewer_id in viewers:
        if viewer_id in hidden:
            continue
        mentioned_in = frozenset(sid for sid, accounts in facts.mentioned.items() if viewer_id in accounts)
        viewer = policy.Viewer(viewer_id, frozenset(following.get(viewer_id, ())), frozenset(), mentioned_in)
        if policy.may_see(status, original, viewer, facts.suspended, facts.limited):
            allowed.add(viewer_id)
    return allowed


async def delete_audience(session: AsyncSession, *, author_id: int, audience: Collection[int],
                          candidates: Collection[int]) -> set[int]:
    """Which of `candidates` may have had a deleted status in their feeds: its author, boosters and
    mentioned (`audience`), and their followers; never someone blocked either way with the author."""
    wanted = set(candidates)
    known = {author_id, *audience}
    reached = (known & wanted) | {a for a, _, _ in await graph.follows_from_among(session, wanted, known)}
    return reached - await graph.blocking_either_way_among(session, reached, {author_id})


async def blocked_with(session: AsyncSession, viewers: Collection[int | None], author_id: int) -> set[int]:
    """Which of `viewers` block, or are blocked by, `author_id`."""
    return await graph.blocking_either_way_among(session, {v for v in viewers if v is not None}, {author_id})


async def viewer_groups(session: AsyncSession, facts: StatusFacts,
                        viewers: Collection[int | None]) -> list[set[int | None]]:
    """`viewers` split into groups that see the same Status entity: the same favourited, boosted and
    bookmarked flags, the authors apart (their own posts show `pinned`). Three queries for any number."""
    logged_in = {v for v in viewers if v is not None}
    marks = await posts_repository.marks_by_among(session, facts.subject.id, logged_in)
    groups: dict[object, set[int | None]] = {}
    for viewer_id in viewers:
        key: object = None
        if viewer_id is not None:
            key = (tuple(viewer_id in marked for marked in marks.values()),
                   viewer_id == facts.status.account_id, viewer_id == facts.subject.account_id)
        groups.setdefault(key, set()).add(viewer_id)
    return list(groups.values())
