"""The ASGI application: one FastAPI app serving the Mastodon API (starling/api) and the web face
(starling/web). Routers and job handlers are discovered, so a new capability adds a module, not an edit
here."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import pkgutil
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

import starling
from starling.api.responses import JSON, error_body
from starling.config import Settings, get_settings
from starling.context import AppContext
from starling.errors import RateLimited, StarlingError, TooLarge
from starling.infra import jobs
from starling.safety.ratelimit import RateLimiter
from starling.web import pages
from starling.web.deps import SESSION_COOKIE

log = logging.getLogger("starling")

# What a browser is told for the web app's own paths (the API keeps Mastodon's wording).
WEB_MESSAGES = {404: "There is no page at this address.", 405: "This page cannot be used that way."}

DOMAINS = ("accounts", "posts", "media", "graph", "timelines", "notifications", "search", "safety")


def _import_submodules(package: str) -> list:
    pkg = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{info.name}")
            for info in pkgutil.iter_modules(pkg.__path__) if not info.name.startswith("_")]


def load_job_handlers() -> None:
    """Import every capability's jobs module so its handlers register."""
    for domain in DOMAINS:
        try:
            importlib.import_module(f"starling.{domain}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name != f"starling.{domain}.jobs":
                raise


async def _answer(request: Request, status: int, message: str, *, details: dict | None = None,
                  page_message: str | None = None, bare: bool = False, headers: dict[str, str] | None = None):
    """The error in the face's shape: an HTML page for the web app's paths (web.pages.wants_page),
    Mastodon's `{"error": ...}` for the API's."""
    if pages.wants_page(request):
        return await pages.outside_error_page(request, status, page_message or message, bare=bare, headers=headers)
    response = error_body(status, message, details)
    response.headers.update(headers or {})
    return response


def _install_error_handlers(app: FastAPI) -> None:
    from starling.infra.db import DATABASE_ERRORS, unavailable

    @app.exception_handler(StarlingError)
    async def _starling_error(request: Request, exc: StarlingError):
        if exc.status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, exc.internal)
        retry = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return await _answer(request, exc.status, exc.message, details=exc.details, headers=retry)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return await _answer(request, 422, f"Validation failed: {where} {first.get('msg', 'is invalid')}".strip())

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        message = "Record not found" if exc.status_code == 404 else str(exc.detail)
        return await _answer(request, exc.status_code, message, page_message=WEB_MESSAGES.get(exc.status_code))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await _answer(request, 500, "Internal server error", bare=True,
                             page_message="Something went wrong on our side. Try again in a moment.")

    async def _database_error(request: Request, exc: Exception):
        if not unavailable(exc):
            return await _crash(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return await _answer(request, 503, "The database is unavailable; try again shortly", bare=True,
                             page_message="The service is unavailable for a moment. Try again shortly.",
                             headers={"Retry-After": str(request.app.state.ctx.settings.db_retry_after)})

    # Registered on the exceptions' own classes (not just Exception) so they are answered inside the app,
    # not re-raised by the outermost middleware: an outage is an expected state, not a crash.
    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database_error)


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413: by Content-Length before reading, and by counting
    while reading when the client streams without one. Plain ASGI, so it costs nothing per request."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    return await error_body(413, "Request body too large")(scope, receive, send)
                break
        seen = 0

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise TooLarge("Request body too large")
            return message

        return await self.app(scope, counted_receive, send)


HOT_ROUTERS = ("bench", "timelines", "statuses", "notifications")

CORS_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")


class ApiCors:
    """Browser clients (Elk, Phanpy) call the API from their own origins with bearer tokens, so the API
    answers any origin, as Mastodon does. Cookies are never honoured cross-origin (no credentials), and
    the HTML pages get no CORS headers at all."""

    def __init__(self, app):
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
                                   expose_headers=["Link", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                                                   "X-RateLimit-Reset", "Retry-After"], max_age=86400)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(CORS_PREFIXES):
            if any(name == b"origin" for name, _ in scope["headers"]):
                return await self.cors(scope, receive, send)

            async def vary(message):  # what CORSMiddleware adds without an Origin, minus its header parsing
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"vary", b"Origin")]
                await send(message)

            return await self.app(scope, receive, vary)
        return await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    """Build the app. `run_worker` defaults to the embedded_worker setting."""
    settings = settings or get_settings()
    ctx = AppContext.build(settings)
    load_job_handlers()
    want_worker = settings.embedded_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = asyncio.Event()
        task = None
        if want_worker:
            lock = jobs.LeaderLock(settings.data_dir / "worker.lock") if ctx.db.is_sqlite else None
            task = asyncio.create_task(jobs.embedded_worker(ctx.db, stop, lock))
        # Everything imported and built so far lives as long as the process: keep it out of the cyclic
        # collector's full passes (~100 ms each over ~115k objects, a p99 spike every few thousand requests).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await asyncio.wait([task], timeout=10)
            await ctx.close()

    app = FastAPI(title="Starling", version=starling.__version__, lifespan=lifespan,
                  default_response_class=JSON, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    _install_error_handlers(app)

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Inside ApiCors, so a browser client can read a 429's headers; outside everything that reads the body.
    app.add_middleware(RateLimiter, ctx=ctx, session_cookie=SESSION_COOKIE)
    app.add_middleware(ApiCors)

    for package in ("starling.api", "starling.web"):
        # Starlette tries routes in order: the hottest first (home was the 90th of 100 routes, ~125 us of
        # matching per request).
        modules = sorted(_import_submodules(package), key=lambda m: m.__name__.rsplit(".", 1)[1] not in HOT_ROUTERS)
        for module in modules:
            router = getattr(module, "router", None)
            if router is not None:
                app.include_router(router)
    return app
