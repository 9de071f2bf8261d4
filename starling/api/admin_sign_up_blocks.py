"""The Mastodon admin API for sign-up blocks: IP blocks (/api/v1/admin/ip_blocks) and email-domain blocks
(/api/v1/admin/email_domain_blocks). Admins only: the scope AND the admin role."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import clock
from starling.api.admin_auth import staff
from starling.api.deps import Auth, ReadSession, WriteSession
from starling.api.params import body_params
from starling.api.responses import JSON
from starling.errors import Forbidden, NotFound, Unprocessable
from starling.safety import signup
from starling.safety.models import EmailDomainBlock, IpBlock

router = APIRouter()
MAX_EXPIRY = 10 * 365 * 86_400


def admin(*wanted: str):
    check_staff = staff(*wanted)

    async def check(request: Request) -> Auth:
        auth = await check_staff(request)
        if not auth.account.is_admin:
            raise Forbidden("This action is not allowed")
        return auth

    return check


ReadBlocks = Annotated[Auth, Depends(admin("admin:read:ip_blocks", "admin:read:email_domain_blocks"))]
WriteIpBlocks = Annotated[Auth, Depends(admin("admin:write:ip_blocks"))]
WriteDomainBlocks = Annotated[Auth, Depends(admin("admin:write:email_domain_blocks"))]


def ip_block_entity(block: IpBlock) -> dict:
    return {"id": str(block.id), "ip": block.network, "severity": block.severity, "comment": block.comment,
            "created_at": clock.iso(block.created_at), "expires_at": clock.iso(block.expires_at)}


def domain_block_entity(block: EmailDomainBlock) -> dict:
    return {"id": block.domain, "domain": block.domain, "created_at": clock.iso(block.created_at), "history": []}


@router.get("/api/v1/admin/ip_blocks")
async def ip_blocks(session: ReadSession, auth: ReadBlocks) -> JSON:
    return JSON([ip_block_entity(b) for b in await signup.ip_block_list(session)])


@router.post("/api/v1/admin/ip_blocks")
async def add_ip_block(request: Request, session: WriteSession, auth: WriteIpBlocks) -> JSON:
    params = await body_params(request)
    expires_in = params.int("expires_in")
    if expires_in is not None and not 1 <= expires_in <= MAX_EXPIRY:
        raise Unprocessable("Validation failed: expires_in must be a positive number of seconds")
    block = await signup.add_ip_block(session, params.str("ip", "", max_length=100) or "",
                                      params.str("severity", "", max_length=40) or "",
                                      comment=params.str("comment", "", max_length=1000) or "",
                                      expires_in=timedelta(seconds=expires_in) if expires_in else None)
    return JSON(ip_block_entity(block))


@router.delete("/api/v1/admin/ip_blocks/{block_id:int}")
async def remove_ip_block(block_id: int, session: WriteSession, auth: WriteIpBlocks) -> JSON:
    if block_id >= 2**63:
        raise NotFound()
    await signup.remove_ip_block(session, block_id)
    return JSON({})


@router.get("/api/v1/admin/email_domain_blocks")
async def domain_blocks(session: ReadSession, auth: ReadBlocks) -> JSON:
    return JSON([domain_block_entity(b) for b in await signup.email_domain_block_list(session)])


@router.post("/api/v1/admin/email_domain_blocks")
async def block_domain(request: Request, session: WriteSession, auth: WriteDomainBlocks) -> JSON:
    params = await body_params(request)
    domain = await signup.block_email_domain(session, params.str("domain", "", max_length=300) or "")
    found = await session.get(EmailDomainBlock, domain)
    return JSON(domain_block_entity(found))


@router.delete("/api/v1/admin/email_domain_blocks/{domain}")
async def unblock_domain(domain: str, session: WriteSession, auth: WriteDomainBlocks) -> JSON:
    await signup.unblock_email_domain(session, domain[:300])
    return JSON({})
