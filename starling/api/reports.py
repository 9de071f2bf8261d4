"""Reports, as Mastodon clients file them, and the notices (warnings) an account received with the appeal
it can file against each. The warning routes are Starling's: Mastodon has them only in its web app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.moderation import account_warning_entity, appeal_entity, report_entity
from starling.api.params import Params, body_params
from starling.api.responses import JSON
from starling.errors import NotFound, Unprocessable
from starling.safety import moderation

router = APIRouter()


def _ids(params: Params, name: str) -> list[int]:
    parsed = []
    for raw in params.list(name):
        value = ids.parse_id(raw)
        if value is None:
            raise Unprocessable(f"Validation failed: {name} holds an unknown id")
        parsed.append(value)
    return parsed


@router.post("/api/v1/reports")
async def file_report(request: Request, session: WriteSession, ctx: Ctx,
                      auth: Annotated[Auth, Depends(scoped("write:reports"))]) -> JSON:
    params = await body_params(request)
    target_id = ids.parse_id(params.get("account_id"))
    if target_id is None:
        raise Unprocessable("Validation failed: account_id is missing") if params.get("account_id") is None \
            else NotFound()
    rule_ids = [str(r) for r in params.list("rule_ids") if isinstance(r, str | int)]
    report = await moderation.file_report(
        session, reporter_id=me(auth), target_account_id=target_id, status_ids=_ids(params, "status_ids"),
        comment=params.str("comment", "", max_length=moderation.MAX_COMMENT) or "",
        category=params.str("category", max_length=20) or None, rule_ids=rule_ids,
        forward=bool(params.bool("forward", False)))
    target = await moderation.target_of(session, report)
    return JSON(report_entity(ctx, report, target))


@router.get("/api/v1/moderation/warnings")
async def my_warnings(session: ReadSession, ctx: Ctx,
                      auth: Annotated[Auth, Depends(scoped("read:accounts"))]) -> JSON:
    account = auth.account
    return JSON([account_warning_entity(ctx, warning, account, appeal)
                 for warning, appeal in await moderation.warnings_for(session, me(auth))])


@router.post("/api/v1/moderation/warnings/{warning_id:int}/appeal")
async def appeal(warning_id: int, request: Request, session: WriteSession,
                 auth: Annotated[Auth, Depends(scoped("write:accounts"))]) -> JSON:
    params = await body_params(request)
    text = params.str("text", "", max_length=moderation.MAX_APPEAL) or ""
    return JSON(appeal_entity(await moderation.file_appeal(session, me(auth), path_id(warning_id), text)))
