"""The `starling` command: serve, worker, migrate, user, jobs, demo, fixtures."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Annotated

import typer

from starling.cli_safety import safety_app
from starling.config import get_settings

app = typer.Typer(help="Starling: a self-hostable microblogging network.", no_args_is_help=True)
user_app = typer.Typer(help="Manage local accounts.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect and retry background jobs.", no_args_is_help=True)
fixtures_app = typer.Typer(help="Seed an instance for third-party test suites.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(jobs_app, name="jobs")
app.add_typer(fixtures_app, name="fixtures")
app.add_typer(safety_app, name="safety")


def _context():
    from starling.context import AppContext
    return AppContext.build(get_settings())


def _migrate() -> None:
    from starling.migrate import upgrade
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    _migrate()
    typer.echo("migrations applied")


async def _ensure_admin() -> str | None:
    from starling.accounts import service as accounts
    ctx = _context()
    try:
        async with ctx.db.write() as session:
            return await accounts.ensure_admin(session, ctx.settings)
    finally:
        await ctx.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8080,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run jobs in this process")] = False,
) -> None:
    """Migrate, make sure an admin exists, and serve HTTP."""
    import uvicorn

    _migrate()
    password = asyncio.run(_ensure_admin())
    if password:
        typer.echo(f"Created account 'admin' with password: {password}\n(shown once; change it after logging in)")
    if no_worker:
        os.environ["STARLING_EMBEDDED_WORKER"] = "false"
    settings = get_settings()
    typer.echo(f"Starling serving http://{host}:{port} (domain {settings.domain}, "
               f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'}, {workers} process(es))")
    uvicorn.run("starling.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level, access_log=False, proxy_headers=False,
                timeout_graceful_shutdown=5)


@app.command()
def worker(concurrency: Annotated[int, typer.Option(help="Jobs run at once")] = 2) -> None:
    """Run background jobs until stopped (for scale-out; `serve` runs one inside itself by default)."""
    from starling.app import load_job_handlers
    from starling.infra import jobs

    load_job_handlers()

    async def run() -> None:
        ctx = _context()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        lock = jobs.LeaderLock(ctx.settings.data_dir / "worker.lock") if ctx.db.is_sqlite else None
        try:
            await jobs.embedded_worker(ctx.db, stop, lock, concurrency=concurrency)
        finally:
            await ctx.close()

    asyncio.run(run())


@user_app.command("create")
def user_create(
    name: str,
    email: Annotated[str, typer.Option(help="Email address")],
    password: Annotated[str | None, typer.Option(help="Password (generated when omitted)")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Give the admin role")] = False,
) -> None:
    """Create a confirmed, approved local account."""
    import secrets

    from starling.accounts import service as accounts
    from starling.errors import StarlingError

    generated = password is None
    password = password or secrets.token_urlsafe(12)

    async def run():
        ctx = _context()
        try:
            async with ctx.db.write() as session:
                return await accounts.create_account(session, ctx.settings, username=name, email=email,
                                                     password=password, role="admin" if admin else "user")
        finally:
            await ctx.close()

    try:
        account = asyncio.run(run())
    except StarlingError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created @{account.username} (id {account.id})")
    if generated:
        typer.echo(f"password: {password}")


@user_app.command("list")
def user_list() -> None:
    """List local accounts."""
    from starling.accounts import service as accounts

    async def run():
        ctx = _context()
        try:
            async with ctx.db.read() as session:
                return await accounts.list_accounts(session)
        finally:
            await ctx.close()

    for account in asyncio.run(run()):
        flags = [account.role] + (["suspended"] if account.suspended_at else []) + (
            ["locked"] if account.locked else [])
        typer.echo(f"{account.id}\t@{account.username}\t{account.email or ''}\t{','.join(flags)}")


@jobs_app.command("list")
def jobs_list(state: Annotated[str, typer.Option(help="queued, running, done or dead")] = "dead") -> None:
    """List jobs in a state (dead ones by default)."""
    from sqlalchemy import select

    from starling.infra.jobs import Job

    async def run():
        ctx = _context()
        try:
            async with ctx.db.read() as session:
                return (await session.scalars(select(Job).where(Job.state == state).order_by(Job.id)
                                              .limit(500))).all()
        finally:
            await ctx.close()

    for job in asyncio.run(run()):
        last = (job.last_error or "").strip().splitlines()[-1:] or [""]
        typer.echo(f"{job.id}\t{job.kind}\tattempts={job.attempts}\t{last[0]}")


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[int | None, typer.Argument(help="One job; all dead jobs when omitted")] = None):
    """Put dead jobs back in the queue."""
    from starling.infra import jobs

    async def run():
        ctx = _context()
        try:
            return await jobs.retry_dead(ctx.db, job_id)
        finally:
            await ctx.close()

    typer.echo(f"requeued {asyncio.run(run())} job(s)")


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(help="How many accounts")] = 200,
    posts: Annotated[int, typer.Option(help="How many posts")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
) -> None:
    """Fill the instance with a believable small network."""
    from starling import demo as demo_builder

    _migrate()
    summary = asyncio.run(demo_builder.build(accounts=accounts, posts=posts, seed=seed))
    typer.echo(summary)


@fixtures_app.command("mastodon-py")
def fixtures_mastodon_py() -> None:
    """Seed the accounts, app and tokens that Mastodon.py's own test suite expects."""
    from starling import fixtures

    _migrate()
    asyncio.run(fixtures.seed_mastodon_py())
    typer.echo("seeded Mastodon.py fixtures")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
