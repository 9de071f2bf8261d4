"""The front page and the static files (stylesheet, scripts, default avatar and header)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from starling.accounts import service
from starling.api.deps import Ctx, ReadSession
from starling.errors import NotFound
from starling.web.deps import OptionalViewer
from starling.web.pages import page, redirect, web_router
from starling.web.templating import STATIC

router = web_router()
router.mount("/static", StaticFiles(directory=STATIC), name="static")

# The API names the default images by Mastodon's paths (api.entities.account); they are these files.
MISSING_IMAGES = {"avatars": "avatar-missing.png", "headers": "header-missing.png"}


@router.api_route("/{kind}/original/missing.png", methods=["GET", "HEAD"])
async def missing_image(kind: str) -> Response:
    name = MISSING_IMAGES.get(kind)
    if name is None:
        raise NotFound()
    return FileResponse(STATIC / name, media_type="image/png",
                        headers={"Cache-Control": "public, max-age=604800"})


@router.api_route("/", methods=["GET", "HEAD"])
async def home(request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer) -> Response:
    if viewer is not None:
        return redirect("/home")
    stats = await service.instance_stats(session)
    return await page(request, "home.html", domain=ctx.settings.domain, users=stats.users,
                      active_month=stats.active_month, statuses=stats.statuses)
