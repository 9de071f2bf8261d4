"""The front page and the static files (stylesheet, scripts, default avatar and header)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from starling.accounts import service
from starling.api.deps import Ctx, ReadSession
from starling.web.deps import OptionalViewer
from starling.web.pages import page, redirect, web_router
from starling.web.templating import STATIC

router = web_router()
router.mount("/static", StaticFiles(directory=STATIC), name="static")


@router.api_route("/", methods=["GET", "HEAD"])
async def home(request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer) -> Response:
    if viewer is not None:
        return redirect("/home")
    stats = await service.instance_stats(session)
    return await page(request, "home.html", domain=ctx.settings.domain, users=stats.users,
                      active_month=stats.active_month, statuses=stats.statuses)
