"""Background work of the safety capability. Handlers are idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts import instance as instance_settings
from starling.accounts.models import Account
from starling.infra import jobs, mail
from starling.safety import signup


@jobs.handler(signup.CONFIRMATION_MAIL)
async def confirmation_mail(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Send the address-confirmation link (nothing when the account is gone or already confirmed). A mail
    server that refuses raises, so the job is retried later."""
    settings = session.info["settings"]
    account = await session.get(Account, payload["account_id"])
    if account is None or account.confirmed_at is not None or not account.email:
        return
    title = (await instance_settings.get_instance_settings(session, settings)).title
    url = signup.confirmation_url(settings, signup.confirmation_token(settings, account.id, account.email))
    subject, text = signup.confirmation_message(settings, account.username, url, title)
    await mail.send(settings, account.email, subject, text)
