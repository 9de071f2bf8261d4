"""Direct conversations: each person's view of the direct messages they wrote or were mentioned in."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId


class AccountConversation(Base):
    """One conversation as one of its people sees it: a thread (by its root's id) with one set of other
    participants. The same thread with a different set of people is a different conversation, as in
    Mastodon, so adding someone to a reply starts a new one."""

    __tablename__ = "account_conversations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId)
    # The other people, as sorted ids joined by commas ("" when one wrote only to oneself).
    participant_ids: Mapped[str] = mapped_column(Text)
    last_status_id: Mapped[int] = mapped_column(BigId)
    unread: Mapped[bool] = mapped_column(Boolean, default=False)


# A person's conversations, newest message first: the list and its pagination walk this index.
Index("ix_account_conversations_account_last", AccountConversation.account_id, AccountConversation.last_status_id)
Index("uq_account_conversations_key", AccountConversation.account_id, AccountConversation.conversation_id,
      AccountConversation.participant_ids, unique=True)
# Deleting a status finds the conversations it was the newest message of.
Index("ix_account_conversations_last", AccountConversation.last_status_id)


class AccountConversationStatus(Base):
    """A direct status in one person's conversation; deleting the status removes the row."""

    __tablename__ = "account_conversation_statuses"

    account_conversation_id: Mapped[int] = mapped_column(
        ForeignKey("account_conversations.id", ondelete="CASCADE"), primary_key=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
