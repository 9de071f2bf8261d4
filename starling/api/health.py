"""`/health` for operators and load balancers: answers 200 when the database answers."""

from fastapi import APIRouter
from sqlalchemy import text

from starling.api.deps import ReadSession
from starling.errors import Unavailable

router = APIRouter()


@router.get("/health", include_in_schema=False)
async def health(session: ReadSession) -> dict:
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable("Database unavailable", internal=str(exc)) from None
    return {"status": "ok"}
