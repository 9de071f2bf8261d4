"""`/health` for operators and load balancers: "OK" (plain text, as Mastodon answers) when the database
answers, 503 when it does not."""

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import PlainTextResponse

from starling.api.deps import ReadSession
from starling.errors import Unavailable

router = APIRouter()


@router.api_route("/health", methods=["GET", "HEAD"], include_in_schema=False)
async def health(session: ReadSession) -> PlainTextResponse:
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable("Database unavailable", internal=str(exc)) from None
    return PlainTextResponse("OK", headers={"Cache-Control": "no-store"})
