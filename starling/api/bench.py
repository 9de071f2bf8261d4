"""`/bench/bare`: the benchmark's yardstick. It returns, from memory, the bytes of a real home-timeline
page that the benchmark saved, so the two runs differ only in the work behind the response.
Off (404) unless STARLING_BENCH_ROUTES is set."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from starling.errors import NotFound

router = APIRouter(include_in_schema=False)
_body: bytes | None = None


@router.get("/bench/bare")
async def bare(request: Request) -> Response:
    global _body
    settings = request.app.state.ctx.settings
    if not settings.bench_routes:
        raise NotFound()
    if _body is None:
        path = settings.data_dir / "bench_bare.json"
        if not path.exists():
            raise NotFound()
        _body = path.read_bytes()
    return Response(_body, media_type="application/json; charset=utf-8")
