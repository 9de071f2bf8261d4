"""Who may use the admin API: a token holding the admin scope asked for AND an account with the
moderator or admin role. A token alone is not enough (scopes can be granted to anyone's app)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from starling.api.deps import Auth, scoped
from starling.errors import Forbidden


def staff(*wanted: str):
    """A dependency: `scoped(*wanted)` plus the moderator role."""
    check_scope = scoped(*wanted)

    async def check(request: Request) -> Auth:
        auth = await check_scope(request)
        account = auth.account
        if account is None or not account.is_moderator:
            raise Forbidden("This action is not allowed")
        return auth

    return check


ReadReports = Annotated[Auth, Depends(staff("admin:read:reports"))]
WriteReports = Annotated[Auth, Depends(staff("admin:write:reports"))]
ReadAccounts = Annotated[Auth, Depends(staff("admin:read:accounts"))]
WriteAccounts = Annotated[Auth, Depends(staff("admin:write:accounts"))]
