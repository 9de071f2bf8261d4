"""Direct conversations (Mastodon's `/api/v1/conversations`): each person's list of the direct-message
threads they take part in, newest message first, with the other people, the newest message they may
see, and whether it is unread.

A direct status joins a conversation for its author and for each mentioned account, in the job that
fans it out (so a quarantined status joins none). The same thread with another set of people is another
conversation, as in Mastodon. Blocks either way keep a status out of the blocked side's list; what is
shown is decided again at read time, as for every timeline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts import repository as accounts_repository
from starling.accounts.models import Account
from starling.conversations import repository
from starling.conversations.models import AccountConversation
from starling.errors import NotFound
from starling.graph import repository as graph
from starling.posts import repository as posts_repository
from starling.posts import service as posts
from starling.posts.models import DIRECT, Status


def _key(account_ids: set[int]) -> str:
    return ",".join(str(i) for i in sorted(account_ids))


async def add_status(session: AsyncSession, status: Status) -> None:
    """Add a new direct status to the conversations of its author and of everyone it mentions, except
    those on either side of a block with the author. Idempotent."""
    if status.visibility != DIRECT or status.reblog_of_id is not None:
        return
    mentioned = await posts_repository.mentioned_account_ids(session, status.id) - {status.account_id}
    people = mentioned | {status.account_id}
    recipients = people - await graph.blockers_among(session, status.account_id, mentioned)
    participants = {account_id: _key(people - {account_id}) for account_id in sorted(recipients)}
    await repository.add_status(session, conversation_id=posts_repository.conversation_of(status),
                                status_id=status.id, author_id=status.account_id, participants=participants)


async def status_removed(session: AsyncSession, status_id: int) -> None:
    await repository.status_removed(session, status_id)


@dataclass
class ConversationView:
    row: AccountConversation
    accounts: list[Account]
    last_status: Status | None


async def list_conversations(session: AsyncSession, viewer_id: int, page) -> list[ConversationView]:
    """One page of the viewer's conversations, newest message first (the page keys are last status ids).
    The newest message is shown only if the viewer may still see it; participants who are gone are left
    out of `accounts`."""
    rows = list((await session.scalars(page.apply(repository.page_query(viewer_id),
                                                  AccountConversation.last_status_id))).all())
    rows = page.order(rows, key=lambda r: r.last_status_id)
    return await _views(session, rows)


async def _views(session: AsyncSession, rows: Sequence[AccountConversation]) -> list[ConversationView]:
    """Each row as its owner sees it: one query for every participant of every row, and one visibility
    check per distinct owner (a page has one; a streamed status has one per participant)."""
    people = {int(i) for row in rows for i in row.participant_ids.split(",") if i}
    accounts = await accounts_repository.by_ids(session, people)
    by_owner: dict[int, list[int]] = {}
    for row in rows:
        by_owner.setdefault(row.account_id, []).append(row.last_status_id)
    visible = {(owner, s.id): s for owner, wanted in by_owner.items()
               for s in await posts.visible_statuses(session, wanted, owner)}
    return [ConversationView(row, [accounts[int(i)] for i in row.participant_ids.split(",")
                                   if i and int(i) in accounts and accounts[int(i)].suspended_at is None],
                             visible.get((row.account_id, row.last_status_id)))
            for row in rows]


async def views_holding(session: AsyncSession, status_id: int,
                        account_ids: Iterable[int]) -> dict[int, ConversationView]:
    """For the streaming API: the conversation each of `account_ids` has that holds `status_id`, as that
    person sees it; people without one (a block, or not a participant) are left out."""
    rows = await repository.holding_status(session, status_id, account_ids)
    return {view.row.account_id: view for view in await _views(session, rows)}


async def mark_read(session: AsyncSession, viewer_id: int, row_id: int) -> ConversationView:
    row = await repository.own(session, viewer_id, row_id)
    if row is None:
        raise NotFound()
    row.unread = False
    await session.flush()
    return (await _views(session, [row]))[0]


async def remove(session: AsyncSession, viewer_id: int, row_id: int) -> None:
    """Take the conversation off the viewer's list (the messages stay; a new one brings it back)."""
    row = await repository.own(session, viewer_id, row_id)
    if row is None:
        raise NotFound()
    await repository.remove(session, row)
