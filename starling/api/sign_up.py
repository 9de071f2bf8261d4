"""Sign-up helpers for apps: the proof-of-work challenge, and asking for the confirmation mail again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from starling import clock
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.responses import JSON
from starling.safety import signup

router = APIRouter()


@router.get("/api/v1/sign_up/challenge")
async def challenge(ctx: Ctx, session: ReadSession) -> JSON:
    """A fresh proof-of-work challenge, and whether sign-ups need one right now. Solve: find a decimal
    nonce such that SHA-256("<challenge>:<nonce>") starts with `difficulty` zero bits; send both as
    pow_challenge and pow_nonce with POST /api/v1/accounts."""
    required, issued = await signup.challenge(session, ctx.settings)
    expires = datetime.fromtimestamp(issued.expires_at, UTC)
    return JSON({"required": required, "algorithm": "sha256", "challenge": issued.text,
                 "difficulty": issued.difficulty, "expires_at": clock.iso(expires)},
                headers={"Cache-Control": "no-store"})


@router.post("/api/v1/emails/confirmations")
async def resend_confirmation(ctx: Ctx, session: WriteSession,
                              auth: Annotated[Auth, Depends(scoped("write:accounts"))]) -> JSON:
    """Send the address-confirmation mail again (Mastodon's endpoint)."""
    await signup.resend_confirmation(session, ctx.settings, auth.account_id)
    return JSON({})
