"""`starling safety ...`: invites, IP blocks, email-domain blocks and the registration status, for
admins until the web admin pages exist."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer

from starling.config import get_settings

safety_app = typer.Typer(help="Sign-up defences: invites, IP and email-domain blocks.", no_args_is_help=True)
invite_app = typer.Typer(help="Invite links.", no_args_is_help=True)
ip_app = typer.Typer(help="IP / CIDR blocks for sign-ups.", no_args_is_help=True)
domain_app = typer.Typer(help="Blocked email domains (beside the shipped disposable list).", no_args_is_help=True)
safety_app.add_typer(invite_app, name="invite")
safety_app.add_typer(ip_app, name="ip-block")
safety_app.add_typer(domain_app, name="email-domain")


def _run(work):
    """Run `work(session, settings)` in one write transaction; StarlingError becomes a clean exit 1."""
    from starling.context import AppContext
    from starling.errors import StarlingError

    async def run():
        ctx = AppContext.build(get_settings())
        try:
            async with ctx.db.write() as session:
                return await work(session, ctx.settings)
        finally:
            await ctx.close()

    try:
        return asyncio.run(run())
    except StarlingError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _hours(value: float | None) -> timedelta | None:
    return timedelta(hours=value) if value else None


@invite_app.command("create")
def invite_create(
    max_uses: Annotated[int | None, typer.Option(help="How many sign-ups it allows (unlimited when omitted)")] = None,
    expires_in_hours: Annotated[float | None, typer.Option(help="Hours until it expires (never when omitted)")] = None,
    comment: Annotated[str, typer.Option(help="A note for admins")] = "",
) -> None:
    """Make an invite link."""
    from starling.safety import signup

    async def work(session, settings):
        invite = await signup.create_invite(session, created_by_id=None, max_uses=max_uses,
                                            expires_in=_hours(expires_in_hours), comment=comment)
        return invite.code, signup.invite_url(settings, invite)

    code, url = _run(work)
    typer.echo(f"invite code: {code}")
    typer.echo(f"link: {url}")


@invite_app.command("list")
def invite_list() -> None:
    """Every invite, newest first."""
    from starling.safety import signup

    async def work(session, _settings):
        return [(i.code, i.uses, i.max_uses, i.expires_at, i.revoked_at, signup.invite_usable(i))
                for i in await signup.invite_list(session)]

    for code, uses, max_uses, expires, revoked, usable in _run(work):
        state = "usable" if usable else "revoked" if revoked else "spent or expired"
        typer.echo(f"{code}  uses {uses}/{max_uses if max_uses is not None else '-'}  "
                   f"expires {expires or 'never'}  {state}")


@invite_app.command("revoke")
def invite_revoke(code: str) -> None:
    """Stop an invite from working."""
    from starling.safety import signup

    async def work(session, _settings):
        await signup.revoke_invite(session, code)

    _run(work)
    typer.echo(f"revoked {code}")


@ip_app.command("add")
def ip_add(
    network: str,
    severity: Annotated[str, typer.Option(help="sign_up_block or sign_up_requires_approval")] = "sign_up_block",
    comment: Annotated[str, typer.Option(help="Why")] = "",
    expires_in_hours: Annotated[float | None, typer.Option(help="Hours it lasts (for ever when omitted)")] = None,
) -> None:
    """Refuse sign-ups from an address or CIDR block, or send them to approval."""
    from starling.safety import signup

    async def work(session, _settings):
        block = await signup.add_ip_block(session, network, severity, comment=comment,
                                          expires_in=_hours(expires_in_hours))
        return block.id, block.network

    block_id, normal = _run(work)
    typer.echo(f"ip block {block_id}: {normal} {severity}")


@ip_app.command("list")
def ip_list() -> None:
    """The IP blocks in force."""
    from starling.safety import signup

    async def work(session, _settings):
        return [(b.id, b.network, b.severity, b.expires_at, b.comment) for b in await signup.ip_block_list(session)]

    for block_id, network, severity, expires, comment in _run(work):
        typer.echo(f"{block_id}  {network}  {severity}  expires {expires or 'never'}  {comment}")


@ip_app.command("remove")
def ip_remove(block_id: int) -> None:
    """Lift an IP block."""
    from starling.safety import signup

    async def work(session, _settings):
        await signup.remove_ip_block(session, block_id)

    _run(work)
    typer.echo(f"removed ip block {block_id}")


@domain_app.command("block")
def domain_block(domain: str) -> None:
    """Refuse sign-ups with addresses at DOMAIN and its subdomains."""
    from starling.safety import signup

    typer.echo(f"blocked {_run(lambda session, _s: signup.block_email_domain(session, domain))}")


@domain_app.command("unblock")
def domain_unblock(domain: str) -> None:
    from starling.safety import signup

    _run(lambda session, _s: signup.unblock_email_domain(session, domain))
    typer.echo(f"unblocked {domain}")


@domain_app.command("list")
def domain_list() -> None:
    """The admins' blocked domains (the shipped disposable list is in starling/safety/disposable_domains.txt)."""
    from starling.safety import signup

    async def work(session, _settings):
        return [b.domain for b in await signup.email_domain_block_list(session)]

    for domain in _run(work):
        typer.echo(domain)


@safety_app.command("registrations")
def registrations() -> None:
    """The registration mode set and in force, and whether sign-ups need a proof of work now."""
    from starling.accounts import instance as instance_settings
    from starling.safety import signup

    async def work(session, settings):
        configured = (await instance_settings.get_instance_settings(session, settings)).registrations
        return await signup.registration_status(session, settings, configured)

    status = _run(work)
    typer.echo(f"configured: {status.configured}")
    typer.echo(f"in force:   {status.effective}{'  (' + status.reason + ')' if status.reason else ''}")
    typer.echo(f"last moderator activity: {status.last_moderator_activity or 'never'}")
    typer.echo(f"sign-ups in the last hour: {status.sign_ups_last_hour}; "
               f"proof of work {'required' if status.proof_of_work else 'off'}")
