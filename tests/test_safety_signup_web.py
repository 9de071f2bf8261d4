"""The sign-up defences in the web face: the same layers as the API (they share the service path),
shown inline on the form; invite links; the admin overview's registration status."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from starling import clock
from starling.accounts.instance import set_instance_setting
from starling.safety import pow, signup

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def settings(settings):
    settings.trusted_proxies = "127.0.0.1"
    settings.pow_difficulty = 8
    settings.ratelimit_sign_up_per_ip = "0"
    return settings


async def _csrf(client, path: str = "/auth/sign_up") -> str:
    return TOKEN.search((await client.get(path)).text).group(1)


async def _sign_up(client, name: str, ip: str = "192.0.2.1", **extra):
    token = await _csrf(client)
    return await client.post("/auth/sign_up", headers={"X-Forwarded-For": ip}, data={
        "csrf_token": token, "username": name, "email": f"{name}@example.org", "password": "a long enough password",
        "agreement": "1", **extra})


async def test_invite_link_fills_the_form_and_lets_people_in(client, ctx, cast):
    async with ctx.db.write() as session:
        await set_instance_setting(session, "registrations", "invite")
        invite = await signup.create_invite(session, created_by_id=cast.admin.id, max_uses=1)
    link = await client.get(f"/invite/{invite.code}")
    assert link.status_code == 303 and link.headers["location"] == f"/auth/sign_up?invite={invite.code}"
    form = await client.get(link.headers["location"])
    assert f'value="{invite.code}"' in form.text and "takes an invite link" in form.text
    assert 'src="/static/pow.js"' in form.text and 'data-pow-challenge-url="/api/v1/sign_up/challenge"' in form.text
    refused = await _sign_up(client, "uninvited")
    assert refused.status_code == 403 and "need an invite" in refused.text
    welcomed = await _sign_up(client, "invited", invite_code=invite.code)
    assert welcomed.status_code == 303 and welcomed.headers["location"] == "/home"
    client.cookies.clear()
    again = await _sign_up(client, "second", invite_code=invite.code)
    assert again.status_code == 422 and "Invite code is invalid, expired or used up" in again.text
    assert f'value="{invite.code}"' in again.text  # what was typed is kept


async def test_blocked_email_and_network_on_the_form(client, ctx):
    disposable = await _sign_up(client, "throwaway", email="x@mailinator.com")
    assert disposable.status_code == 422
    assert "Email uses a disposable or blocked email domain" in disposable.text
    assert 'value="throwaway"' in disposable.text
    async with ctx.db.write() as session:
        await signup.add_ip_block(session, "203.0.113.0/24", "sign_up_block")
    blocked = await _sign_up(client, "farmed", ip="203.0.113.5")
    assert blocked.status_code == 403 and "Sign-ups from your network are not allowed" in blocked.text


async def test_proof_of_work_on_the_form(client, ctx):
    ctx.settings.pow_required = True
    missing = await _sign_up(client, "lazy")
    assert missing.status_code == 422 and "Proof of work is missing" in missing.text
    body = (await client.get("/api/v1/sign_up/challenge")).json()
    nonce = pow.solve(body["challenge"], body["difficulty"])
    done = await _sign_up(client, "worker", pow_challenge=body["challenge"], pow_nonce=nonce)
    assert done.status_code == 303
    client.cookies.clear()
    replayed = await _sign_up(client, "copycat", pow_challenge=body["challenge"], pow_nonce=nonce)
    assert replayed.status_code == 422 and "already used" in replayed.text


async def test_admin_overview_says_when_registrations_fell_back_to_approval(client, ctx, cast):
    token = await _csrf(client, "/auth/sign_in")
    signed = await client.post("/auth/sign_in", data={"csrf_token": token, "username": "admin",
                                                      "password": cast.admin.password, "next": "/admin"})
    assert signed.status_code == 303
    calm = await client.get("/admin")
    assert calm.status_code == 200 and "No moderator has been active" not in calm.text
    clock.set_now(clock.now() + timedelta(days=8))
    async with ctx.db.read() as session:
        status = await signup.registration_status(session, ctx.settings, "open")
    assert status.effective == "approval"
    # Browsing with a standing session is not activity (signing in, moderating are): the page says so.
    overview = await client.get("/admin")
    assert overview.status_code == 200
    assert "No moderator has been active for 7 days" in overview.text
    assert "In force now: people apply and an admin approves each account" in overview.text
