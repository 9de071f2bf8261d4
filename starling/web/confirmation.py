"""The link in the confirmation mail lands here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

import starling
from starling.accounts import instance as instance_settings
from starling.api.deps import Ctx, WriteSession
from starling.errors import Unprocessable
from starling.safety import signup
from starling.web.templating import render

router = APIRouter()


@router.get("/auth/confirmation", include_in_schema=False)
async def confirm(request: Request, ctx: Ctx, session: WriteSession) -> Response:
    title = (await instance_settings.get_instance_settings(session, ctx.settings)).title
    page = {"instance_title": title, "version": starling.__version__}
    token = request.query_params.get("confirmation_token", "")
    try:
        account = await signup.confirm_email(session, ctx.settings, token)
    except Unprocessable as exc:
        return render("confirmation.html", {**page, "error": exc.message}, status_code=422, no_store=True)
    return render("confirmation.html", {**page, "username": account.username}, no_store=True)
