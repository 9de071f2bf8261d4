"""Lists: named sets of followed accounts whose statuses make a timeline of their own."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository as accounts
from starling.accounts.models import Account
from starling.errors import NotFound, Unprocessable
from starling.timelines import repository
from starling.timelines.feed_store import Window
from starling.timelines.models import List

REPLIES_POLICIES = ("followed", "list", "none")
MAX_LISTS = 50
MAX_TITLE = 256


def _title(raw: str | None) -> str:
    title = (raw or "").strip()
    if not title:
        raise Unprocessable("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise Unprocessable(f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)")
    return title


def _policy(raw: str) -> str:
    if raw not in REPLIES_POLICIES:
        raise Unprocessable("Validation failed: Replies policy is not included in the list")
    return raw


async def lists_of(session: AsyncSession, owner_id: int) -> list[List]:
    """Every list the account owns, oldest first."""
    return await repository.lists_of(session, owner_id)


async def get_list(session: AsyncSession, owner_id: int, list_id: int) -> List:
    """One of the owner's lists; NotFound for anyone else's."""
    lst = await repository.list_by_id(session, list_id)
    if lst is None or lst.account_id != owner_id:
        raise NotFound()
    return lst


async def create_list(session: AsyncSession, owner_id: int, *, title: str | None,
                      replies_policy: str = "list", exclusive: bool = False) -> List:
    """A new list. Unprocessable for a blank title, an unknown policy, or one list too many."""
    lst = List(id=ids.new_id(), account_id=owner_id, title=_title(title),
               replies_policy=_policy(replies_policy), exclusive=exclusive, created_at=clock.utcnow_naive())
    if await repository.count_lists(session, owner_id) >= MAX_LISTS:
        raise Unprocessable(f"Validation failed: You cannot have more than {MAX_LISTS} lists")
    session.add(lst)
    await session.flush()
    return lst


async def update_list(session: AsyncSession, owner_id: int, list_id: int, *, title: str | None = None,
                      replies_policy: str | None = None, exclusive: bool | None = None) -> List:
    """Change what was given of a list's title, replies policy and exclusivity."""
    lst = await get_list(session, owner_id, list_id)
    # Every value is checked before any is set: a refused change leaves the row as it was.
    new_title = _title(title) if title is not None else None
    new_policy = _policy(replies_policy) if replies_policy is not None else None
    if new_title is not None:
        lst.title = new_title
    if new_policy is not None:
        lst.replies_policy = new_policy
    if exclusive is not None:
        lst.exclusive = exclusive
    await session.flush()
    return lst


async def delete_list(session: AsyncSession, owner_id: int, list_id: int) -> None:
    """Delete one of the owner's lists (its memberships go with it)."""
    lst = await get_list(session, owner_id, list_id)
    await session.delete(lst)
    await session.flush()


async def members(session: AsyncSession, owner_id: int, list_id: int, window: Window | None) -> list[Account]:
    """A page of a list's members (all of them when `window` is None)."""
    lst = await get_list(session, owner_id, list_id)
    return await repository.list_members_page(session, lst, window)


async def add_members(session: AsyncSession, owner_id: int, list_id: int,
                      account_ids: Collection[int]) -> None:
    """Add accounts to a list, all or none: NotFound for an unknown account, Unprocessable for one the
    owner neither follows nor asked to follow. Adding a member again changes nothing (unlike Mastodon's
    422, so a re-add right after an unfollow and a re-follow cannot trip over a row not yet cleaned up)."""
    await get_list(session, owner_id, list_id)
    wanted = set(account_ids)
    known = await accounts.by_ids(session, wanted)
    if len(known) != len(wanted) or not wanted:
        raise NotFound()
    if await repository.addable_accounts(session, owner_id, wanted) != wanted:
        raise Unprocessable("Validation failed: Account must be following")
    await repository.add_list_members(session, list_id, wanted)


async def remove_members(session: AsyncSession, owner_id: int, list_id: int,
                         account_ids: Collection[int]) -> None:
    """Take accounts out of a list; absent ones are ignored."""
    await get_list(session, owner_id, list_id)
    await repository.remove_list_members(session, list_id, account_ids)


async def lists_with_member(session: AsyncSession, owner_id: int, member_id: int) -> list[List]:
    """The owner's lists that contain `member_id`; NotFound for an unknown account."""
    if await accounts.by_id(session, member_id) is None:
        raise NotFound()
    return await repository.lists_containing(session, owner_id, member_id)
