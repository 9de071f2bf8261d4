"""The Mastodon Account entity, built in one place for every endpoint."""

from __future__ import annotations

from starling import clock
from starling.accounts.models import Account
from starling.context import AppContext

# Mastodon's own paths for "no image": some apps recognise them (by `missing.png`) and draw their own.
MISSING_AVATAR = "/avatars/original/missing.png"
MISSING_HEADER = "/headers/original/missing.png"


def _media_url(ctx: AppContext, key: str | None, fallback: str) -> str:
    return ctx.storage.url(key) if key else f"{ctx.settings.base_url}{fallback}"


def account_entity(ctx: AppContext, account: Account, *, source: bool = False) -> dict:
    """`source=True` adds what only the account itself sees (verify_credentials, update_credentials)."""
    avatar = _media_url(ctx, account.avatar_key, MISSING_AVATAR)
    header = _media_url(ctx, account.header_key, MISSING_HEADER)
    created = account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    entity = {
        "id": str(account.id),
        "username": account.username,
        "acct": account.username,
        "display_name": account.display_name or "",
        "locked": bool(account.locked),
        "bot": bool(account.bot),
        "discoverable": bool(account.discoverable),
        "indexable": bool(account.indexable),
        "group": False,
        "created_at": clock.iso(created),
        "note": account.note_html or "",
        "url": f"{ctx.settings.base_url}/@{account.username}",
        "uri": f"{ctx.settings.base_url}/users/{account.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": account.avatar_description or "",
        "header": header,
        "header_static": header,
        "header_description": account.header_description or "",
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": account.last_status_at.date().isoformat() if account.last_status_at else None,
        "hide_collections": bool(account.hide_collections),
        "noindex": not account.indexable,
        "emojis": [],
        "roles": [],
        "fields": [
            {"name": f.get("name", ""), "value": f.get("value_html", f.get("value", "")), "verified_at": None}
            for f in (account.fields or [])
        ],
    }
    if account.suspended_at is not None:
        # Mastodon's suspended shape: the profile is withheld, only the identity and counts remain.
        missing_avatar = f"{ctx.settings.base_url}{MISSING_AVATAR}"
        missing_header = f"{ctx.settings.base_url}{MISSING_HEADER}"
        entity.update(suspended=True, display_name="", note="", fields=[], emojis=[], locked=False, bot=False,
                      discoverable=False, avatar=missing_avatar, avatar_static=missing_avatar,
                      header=missing_header, header_static=missing_header, avatar_description="",
                      header_description="")
    if source:
        entity["source"] = {
            "privacy": account.default_privacy,
            "sensitive": bool(account.default_sensitive),
            "language": account.default_language or "",
            "note": account.note or "",
            "fields": [{"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
                       for f in (account.fields or [])],
            "follow_requests_count": 0,
            "hide_collections": bool(account.hide_collections),
            "discoverable": bool(account.discoverable),
            "indexable": bool(account.indexable),
            "attribution_domains": list(account.attribution_domains or []),
            "quote_policy": account.quote_policy or "public",
        }
        entity["role"] = {"id": {"user": "-99", "moderator": "2", "admin": "3"}.get(account.role, "-99"),
                          "name": account.role.capitalize() if account.role != "user" else "",
                          "permissions": "1" if account.role == "admin" else "0",
                          "color": "", "highlighted": account.role != "user"}
    return entity
