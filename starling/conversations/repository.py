"""Storage for direct conversations."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling import ids
from starling.conversations.models import AccountConversation, AccountConversationStatus
from starling.infra.db import insert_ignore


def _keyed(conversation_id: int, participants: dict[int, str]):
    return and_(AccountConversation.conversation_id == conversation_id,
                or_(*(and_(AccountConversation.account_id == account_id, AccountConversation.participant_ids == key)
                      for account_id, key in participants.items())))


async def add_status(session: AsyncSession, *, conversation_id: int, status_id: int, author_id: int,
                     participants: dict[int, str]) -> None:
    """Put `status_id` into the conversation each recipient (`participants`: recipient -> the others'
    key) has for this thread and these people, making it their newest message; unread for all but the
    author. Four statements for any number of recipients; running it again changes nothing."""
    rows = [{"id": ids.new_id(), "account_id": account_id, "conversation_id": conversation_id,
             "participant_ids": key, "last_status_id": status_id, "unread": account_id != author_id}
            for account_id, key in participants.items()]
    await insert_ignore(session, AccountConversation, rows)
    await session.execute(
        update(AccountConversation)
        .where(_keyed(conversation_id, participants), AccountConversation.last_status_id < status_id)
        .values(last_status_id=status_id, unread=AccountConversation.account_id != author_id)
        .execution_options(synchronize_session=False))
    found = await session.scalars(select(AccountConversation.id).where(_keyed(conversation_id, participants)))
    await insert_ignore(session, AccountConversationStatus,
                        [{"account_conversation_id": row_id, "status_id": status_id} for row_id in found])


async def status_removed(session: AsyncSession, status_id: int) -> None:
    """After a status is deleted (its links went with it): conversations it was the newest message of
    fall back to their newest remaining one, and those left with none are deleted."""
    last = AccountConversation.last_status_id == status_id
    remaining = select(AccountConversationStatus.status_id).where(
        AccountConversationStatus.account_conversation_id == AccountConversation.id)
    await session.execute(delete(AccountConversation).where(last, ~exists(remaining))
                          .execution_options(synchronize_session=False))
    newest = (select(func.max(AccountConversationStatus.status_id))
              .where(AccountConversationStatus.account_conversation_id == AccountConversation.id)
              .scalar_subquery())
    await session.execute(update(AccountConversation).where(last).values(last_status_id=newest)
                          .execution_options(synchronize_session=False))


async def holding_status(session: AsyncSession, status_id: int,
                         account_ids: Iterable[int]) -> list[AccountConversation]:
    """The conversations of `account_ids` that `status_id` is in (one each at most)."""
    wanted = set(account_ids)
    if not wanted:
        return []
    stmt = (select(AccountConversation)
            .join(AccountConversationStatus,
                  AccountConversationStatus.account_conversation_id == AccountConversation.id)
            .where(AccountConversationStatus.status_id == status_id, AccountConversation.account_id.in_(wanted)))
    return list(await session.scalars(stmt))


def page_query(account_id: int):
    return select(AccountConversation).where(AccountConversation.account_id == account_id)


async def own(session: AsyncSession, account_id: int, row_id: int) -> AccountConversation | None:
    return await session.scalar(select(AccountConversation).where(
        AccountConversation.id == row_id, AccountConversation.account_id == account_id))


async def remove(session: AsyncSession, row: AccountConversation) -> None:
    await session.delete(row)
