"""The front page and the static files (stylesheet, default avatar and header)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

import starling
from starling.accounts import instance as instance_settings
from starling.accounts import service
from starling.api.deps import Ctx, ReadSession
from starling.web.templating import STATIC, render

router = APIRouter()
router.mount("/static", StaticFiles(directory=STATIC), name="static")


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def home(ctx: Ctx, session: ReadSession) -> Response:
    options = await instance_settings.get_instance_settings(session, ctx.settings)
    stats = await service.instance_stats(session)
    return render("home.html", {
        "instance_title": options.title, "description": options.description, "version": starling.__version__,
        "domain": ctx.settings.domain, "registrations": options.registrations,
        "users": stats.users, "active_month": stats.active_month, "statuses": stats.statuses,
    })
