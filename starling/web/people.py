"""Accounts as the people lists of the web pages show them (search results, list members, mutes,
blocks, notifications): the account and its avatar's URL, for `settings/_account_row.html`."""

from __future__ import annotations

from starling.accounts.models import Account
from starling.context import AppContext

MISSING_AVATAR = "/static/avatar-missing.png"
MISSING_HEADER = "/static/header-missing.png"


def image_url(ctx: AppContext, key: str | None, fallback: str) -> str:
    """A stored profile image's URL, or the stand-in image when there is none."""
    return ctx.storage.url(key) if key else fallback


def avatar_url(ctx: AppContext, account: Account) -> str:
    return image_url(ctx, account.avatar_key, MISSING_AVATAR)


def person(ctx: AppContext, account: Account, **extra) -> dict:
    """One row of a people list: `account`, `avatar`, and whatever the page adds."""
    return {"account": account, "avatar": avatar_url(ctx, account), **extra}
