"""Sign-up defences on POST /api/v1/accounts: proof of work, invites, email-domain and IP blocks, the
moderator-absence fallback to approval, and the limits on new accounts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from starling import clock
from starling.accounts.instance import set_instance_setting
from starling.accounts.models import Account
from starling.safety import counters, pow, signup
from tests.postgres import requires_postgres


@pytest.fixture
def settings(settings):
    settings.trusted_proxies = "127.0.0.1"
    settings.pow_difficulty = 8  # a few hundred hashes: the tests solve for real
    settings.ratelimit_sign_up_per_ip = "0"  # the limiter has its own tests
    return settings


@pytest.fixture
def app_headers(client):
    async def make() -> dict[str, str]:
        app = (await client.post("/api/v1/apps", json={"client_name": "Signup", "redirect_uris": "myapp://cb",
                                                       "scopes": "read write follow"})).json()
        token = (await client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "scope": "read write follow"})).json()
        return {"Authorization": f"Bearer {token['access_token']}"}
    return make


def _form(name: str, **extra) -> dict:
    return {"username": name, "email": f"{name}@example.org", "password": "a long enough password",
            "agreement": True, "locale": "en", **extra}


async def _sign_up(client, headers, name: str, ip: str = "192.0.2.1", **extra):
    return await client.post("/api/v1/accounts", json=_form(name, **extra),
                              headers={**headers, "X-Forwarded-For": ip})


async def _solved(client) -> dict:
    body = (await client.get("/api/v1/sign_up/challenge")).json()
    return {"pow_challenge": body["challenge"], "pow_nonce": pow.solve(body["challenge"], body["difficulty"])}


async def _account(ctx, username: str) -> Account:
    async with ctx.db.read() as session:
        return (await session.execute(select(Account).where(Account.username == username))).scalar_one()


# ---- proof of work ----------------------------------------------------------------------------------

def test_proof_of_work_checks():
    secret = "s" * 40
    issued = pow.issue(secret, 10, 60)
    nonce = pow.solve(issued.text, 10)
    random_part, left = pow.check(secret, issued.text, nonce, min_difficulty=10)
    assert len(random_part) == 24 and 0 < left <= 60
    refusals = {
        "is missing": (issued.text, None),
        "is malformed": (issued.text, "12ab"),
        "was not issued by this server": (issued.text[:-1] + ("0" if issued.text[-1] != "0" else "1"), nonce),
    }
    for expected, (challenge, answer) in refusals.items():
        with pytest.raises(pow.ProofRefused, match=expected):
            pow.check(secret, challenge, answer, min_difficulty=10)
    with pytest.raises(pow.ProofRefused, match="is wrong"):
        wrong = next(str(n) for n in range(10_000)
                     if pow.leading_zero_bits(__import__("hashlib").sha256(f"{issued.text}:{n}".encode())
                                              .digest()) < 10)
        pow.check(secret, issued.text, wrong, min_difficulty=10)
    with pytest.raises(pow.ProofRefused, match="too easy"):
        pow.check(secret, issued.text, nonce, min_difficulty=11)
    with pytest.raises(pow.ProofRefused, match="expired"):
        pow.check(secret, issued.text, nonce, min_difficulty=10, now=issued.expires_at + 1)
    with pytest.raises(pow.ProofRefused, match="not issued"):
        pow.check("another secret" * 3, issued.text, nonce, min_difficulty=10)


def test_leading_zero_bits():
    assert pow.leading_zero_bits(b"\x00\x00\xff") == 16
    assert pow.leading_zero_bits(b"\x00\x10") == 11
    assert pow.leading_zero_bits(b"\x80") == 0


async def test_a_challenge_is_spent_once(tmp_path):
    store = counters.Counters(None, counters.LocalCounters(tmp_path / "c.sqlite3"))
    secret = "s" * 40
    issued = pow.issue(secret, 6, 60)
    nonce = pow.solve(issued.text, 6)
    await pow.spend(store, secret, issued.text, nonce, min_difficulty=6, prefix="t:")
    with pytest.raises(pow.ProofRefused, match="already used"):
        await pow.spend(store, secret, issued.text, nonce, min_difficulty=6, prefix="t:")


async def test_challenge_endpoint(client, ctx):
    body = (await client.get("/api/v1/sign_up/challenge")).json()
    assert body["required"] is False and body["algorithm"] == "sha256" and body["difficulty"] == 8
    assert body["expires_at"].endswith("Z")
    ctx.settings.pow_required = True
    assert (await client.get("/api/v1/sign_up/challenge")).json()["required"] is True


async def test_sign_up_with_proof_of_work(client, ctx, app_headers):
    ctx.settings.pow_required = True
    headers = await app_headers()
    missing = await _sign_up(client, headers, "nopow")
    assert missing.status_code == 422
    assert missing.json()["details"]["proof_of_work"][0]["error"] == "ERR_INVALID"
    assert "Proof of work" in missing.json()["error"]
    proof = await _solved(client)
    assert (await _sign_up(client, headers, "worker", **proof)).status_code == 200
    replay = await _sign_up(client, headers, "replayer", **proof)
    assert replay.status_code == 422 and "already used" in replay.text
    forged = {**proof, "pow_challenge": proof["pow_challenge"].replace("v1.", "v1.9", 1)}
    assert (await _sign_up(client, headers, "forger", **forged)).status_code == 422


async def test_proof_of_work_switches_on_when_sign_ups_spike(client, ctx, app_headers):
    ctx.settings.pow_auto_sign_ups_per_hour = 2
    headers = await app_headers()
    for name in ("first", "second"):
        assert (await _sign_up(client, headers, name)).status_code == 200
    assert (await client.get("/api/v1/sign_up/challenge")).json()["required"] is True
    assert (await _sign_up(client, headers, "third")).status_code == 422
    assert (await _sign_up(client, headers, "third", **await _solved(client))).status_code == 200
    clock.set_now(clock.now() + timedelta(hours=1, minutes=1))
    assert (await client.get("/api/v1/sign_up/challenge")).json()["required"] is False


# ---- invites ----------------------------------------------------------------------------------------

async def test_invite_mode(client, ctx, app_headers, cast):
    async with ctx.db.write() as session:
        await set_instance_setting(session, "registrations", "invite")
        once = await signup.create_invite(session, created_by_id=cast.admin.id, max_uses=1)
        stale = await signup.create_invite(session, created_by_id=cast.admin.id, expires_in=timedelta(hours=1))
        gone = await signup.create_invite(session, created_by_id=cast.admin.id)
        await signup.revoke_invite(session, gone.code)
    headers = await app_headers()
    without = await _sign_up(client, headers, "nocode")
    assert without.status_code == 403 and "invite" in without.json()["error"]
    bad = await _sign_up(client, headers, "badcode", invite_code="nope")
    assert bad.status_code == 422 and bad.json()["details"]["invite_code"][0]["error"] == "ERR_INVALID"
    assert (await _sign_up(client, headers, "invited", invite_code=once.code)).status_code == 200
    assert (await _sign_up(client, headers, "second", invite_code=once.code)).status_code == 422
    assert (await _sign_up(client, headers, "revoked", invite_code=gone.code)).status_code == 422
    clock.set_now(clock.now() + timedelta(hours=2))
    assert (await _sign_up(client, headers, "late", invite_code=stale.code)).status_code == 422
    async with ctx.db.read() as session:
        listed = {i.code: i for i in await signup.invite_list(session)}
    assert listed[once.code].uses == 1 and not signup.invite_usable(listed[once.code])


async def test_an_invite_skips_approval(client, ctx, app_headers, cast):
    async with ctx.db.write() as session:
        await set_instance_setting(session, "registrations", "approval")
        invite = await signup.create_invite(session, created_by_id=cast.admin.id)
    headers = await app_headers()
    assert (await _sign_up(client, headers, "waiting", reason="I like birds")).status_code == 200
    assert (await _sign_up(client, headers, "friend", invite_code=invite.code)).status_code == 200
    assert (await _account(ctx, "waiting")).approved is False
    assert (await _account(ctx, "friend")).approved is True


# ---- email domains and IP blocks -------------------------------------------------------------------

async def test_disposable_and_blocked_email_domains(client, ctx, app_headers):
    ctx.settings.blocked_email_domains = "spam.example"
    async with ctx.db.write() as session:
        await signup.block_email_domain(session, "Junk.Example.")
    headers = await app_headers()
    for address in ("x@mailinator.com", "x@eu.mailinator.com", "x@YOPMAIL.com", "x@junk.example",
                    "x@mx.spam.example"):
        response = await client.post("/api/v1/accounts", headers=headers, json={
            **_form("blocked"), "email": address})
        assert response.status_code == 422, address
        assert response.json()["details"]["email"][0]["error"] == "ERR_BLOCKED"
    assert (await _sign_up(client, headers, "fine")).status_code == 200
    assert "mailinator.com" in signup.disposable_domains() and len(signup.disposable_domains()) > 50
    async with ctx.db.write() as session:
        await signup.unblock_email_domain(session, "junk.example")
    response = await client.post("/api/v1/accounts", headers=headers,
                                 json={**_form("later"), "email": "x@junk.example"})
    assert response.status_code == 200


async def test_ip_blocks(client, ctx, app_headers):
    async with ctx.db.write() as session:
        await signup.add_ip_block(session, "198.51.100.0/24", "sign_up_block", comment="a spam farm")
        await signup.add_ip_block(session, "2001:db8:77::/48", "sign_up_requires_approval")
        expiring = await signup.add_ip_block(session, "203.0.113.9", "sign_up_block",
                                             expires_in=timedelta(minutes=5))
    headers = await app_headers()
    refused = await _sign_up(client, headers, "farmed", ip="198.51.100.77")
    assert refused.status_code == 403 and "network" in refused.json()["error"]
    assert (await _sign_up(client, headers, "plain", ip="198.51.101.1")).status_code == 200
    needs_reason = await _sign_up(client, headers, "sixer", ip="2001:db8:77:1::5")
    assert needs_reason.status_code == 422 and "reason" in needs_reason.json()["details"]
    assert (await _sign_up(client, headers, "sixer", ip="2001:db8:77:1::5", reason="hello")).status_code == 200
    assert (await _account(ctx, "sixer")).approved is False
    assert (await _sign_up(client, headers, "expiring", ip="203.0.113.9")).status_code == 403
    clock.set_now(clock.now() + timedelta(minutes=6))
    assert (await _sign_up(client, headers, "expiring", ip="203.0.113.9")).status_code == 200
    async with ctx.db.write() as session:
        assert [b.network for b in await signup.ip_block_list(session)] == ["198.51.100.0/24", "2001:db8:77::/48"]
        await signup.remove_ip_block(session, expiring.id)
        with pytest.raises(Exception, match="not an address"):
            await signup.add_ip_block(session, "not-a-network", "sign_up_block")


# ---- moderator absence ------------------------------------------------------------------------------

async def test_open_registrations_turn_to_approval_without_moderators(client, ctx, app_headers, cast):
    headers = await app_headers()
    async with ctx.db.read() as session:
        fresh = await signup.registration_status(session, ctx.settings, "open")
    assert fresh.effective == "open" and fresh.reason == ""
    assert (await _sign_up(client, headers, "early")).status_code == 200
    clock.set_now(clock.now() + timedelta(days=8))
    async with ctx.db.read() as session:
        status = await signup.registration_status(session, ctx.settings, "open")
    assert status.configured == "open" and status.effective == "approval"
    assert "No moderator has been active for 7 days" in status.reason
    assert (await _sign_up(client, headers, "late")).status_code == 422  # a reason is now required
    assert (await _sign_up(client, headers, "late", reason="please")).status_code == 200
    assert (await _account(ctx, "late")).approved is False
    # The admin signs in: registrations are open again.
    async with ctx.db.write() as session:
        from starling.accounts import service as accounts

        await accounts.record_sign_in(session, cast.admin.id)
    assert (await _sign_up(client, headers, "again")).status_code == 200
    assert (await _account(ctx, "again")).approved is True


# ---- new accounts -----------------------------------------------------------------------------------

SENTENCES = ["Just moved here from the coast", "Mornings are for coffee and crosswords", "My cat ignores me",
             "Planted garlic in the back garden", "Trying a new bread recipe today", "The library reopened",
             "Rain again, perfect for reading", "Fixed the squeaky door at last", "Learning the cello slowly",
             "A fox crossed the road this morning", "Tea or coffee, that is the question", "Evening walk done"]


async def test_new_accounts_are_limited(client, ctx, app_headers, cast):
    ctx.settings.newcomer_posts_per_hour = 3
    ctx.settings.newcomer_follows_per_hour = 2
    response = await _sign_up(client, await app_headers(), "newbie")
    newbie = {"Authorization": f"Bearer {response.json()['access_token']}"}
    link = await client.post("/api/v1/statuses", json={"status": "look at https://shop.example/deal"},
                             headers=newbie)
    assert link.status_code == 422 and "links" in link.json()["error"]
    codes = [(await client.post("/api/v1/statuses", json={"status": text}, headers=newbie)).status_code
             for text in SENTENCES[:4]]
    assert codes == [200, 200, 200, 429]
    follows = [(await client.post(f"/api/v1/accounts/{who.id}/follow", headers=newbie)).status_code
               for who in (cast.alice, cast.bob, cast.eve)]
    assert follows == [200, 200, 429]
    # Accounts an operator made are not newcomers; after the first day neither is this one.
    assert (await client.post("/api/v1/statuses", json={"status": "see https://example.net"},
                              headers=cast.alice.headers)).status_code == 200
    clock.set_now(clock.now() + timedelta(hours=25))
    assert (await client.post("/api/v1/statuses", json={"status": "see https://example.net/about"},
                              headers=newbie)).status_code == 200


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_the_browser_script_solves_a_real_challenge(client, ctx, app_headers):
    """starling/web/static/pow.js (what the web sign-up page runs) finds a nonce the server accepts."""
    ctx.settings.pow_required = True
    body = (await client.get("/api/v1/sign_up/challenge")).json()
    script = Path(signup.__file__).parent.parent / "web" / "static" / "pow.js"
    harness = ("global.window = {}; global.document = {querySelectorAll: () => []};"
               f"require({json.dumps(str(script))});"
               f"window.StarlingPow.solve({json.dumps(body['challenge'])}, {body['difficulty']},"
               " n => process.stdout.write(n));")
    done = subprocess.run(["node", "-e", harness], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    proof = {"pow_challenge": body["challenge"], "pow_nonce": done.stdout.strip()}
    assert (await _sign_up(client, await app_headers(), "browser", **proof)).status_code == 200


@pytest.mark.slow
def test_admin_commands(tmp_path):
    from tests.live import run_cli, server_env

    env = server_env(tmp_path / "data", "starling.test")
    run_cli(["migrate"], env)
    made = run_cli(["safety", "invite", "create", "--max-uses", "2", "--expires-in-hours", "24"], env).stdout
    code = re.search(r"invite code: (\S+)", made).group(1)
    assert f"link: http://starling.test/invite/{code}" in made
    assert f"{code}  uses 0/2" in run_cli(["safety", "invite", "list"], env).stdout
    run_cli(["safety", "invite", "revoke", code], env)
    assert "revoked" in run_cli(["safety", "invite", "list"], env).stdout
    run_cli(["safety", "ip-block", "add", "198.51.100.0/24", "--comment", "spam farm"], env)
    assert "198.51.100.0/24  sign_up_block" in run_cli(["safety", "ip-block", "list"], env).stdout
    run_cli(["safety", "email-domain", "block", "Junk.Example"], env)
    assert run_cli(["safety", "email-domain", "list"], env).stdout.split() == ["junk.example"]
    status = run_cli(["safety", "registrations"], env).stdout
    assert "configured: open" in status and "proof of work off" in status
    with pytest.raises(RuntimeError, match="not an address"):
        run_cli(["safety", "ip-block", "add", "nonsense"], env)


@requires_postgres
async def test_sign_up_records_on_postgres(pg_db, settings):
    """The sign-up queries on PostgreSQL: invites used once under a race-safe update, IP blocks, the
    sign-up count and the moderators' last activity."""
    from starling.accounts import service as accounts

    async with pg_db.write() as session:
        admin = await accounts.create_account(session, settings, username="boss", email="boss@example.org",
                                              password="long enough pw", role="admin")
        invite = await signup.create_invite(session, created_by_id=admin.id, max_uses=1)
        await signup.add_ip_block(session, "2001:db8:9::/48", "sign_up_requires_approval")
    async with pg_db.write() as session:
        screening = await signup.screen(session, settings, mode="invite", email="a@example.org",
                                        ip="2001:db8:9::1", invite_code=invite.code)
        assert screening.invite is not None and screening.approval_required  # the IP block still applies
        newbie = await accounts.create_account(session, settings, username="newbie", email="a@example.org",
                                               password="long enough pw")
        await signup.record(session, settings, account_id=newbie.id, email=newbie.email, screening=screening,
                            ip="2001:db8:9::1")
    async with pg_db.write() as session:
        late = await signup.screen(session, settings, mode="invite", email="b@example.org", ip=None,
                                   invite_code=invite.code)
        assert "invite_code" in late.problems
        assert await signup.sign_ups_last_hour(session) == 1
        status = await signup.registration_status(session, settings, "open")
        assert status.effective == "open" and status.last_moderator_activity is not None


async def test_admin_api_for_sign_up_blocks(client, cast, make_account):
    admin = cast.admin.headers
    made = await client.post("/api/v1/admin/ip_blocks", headers=admin, json={
        "ip": "198.51.100.0/24", "severity": "sign_up_block", "comment": "a farm", "expires_in": 3600})
    assert made.status_code == 200, made.text
    block = made.json()
    assert block["ip"] == "198.51.100.0/24" and block["severity"] == "sign_up_block"
    assert block["expires_at"].endswith("Z")
    assert [b["id"] for b in (await client.get("/api/v1/admin/ip_blocks", headers=admin)).json()] == [block["id"]]
    bad = await client.post("/api/v1/admin/ip_blocks", headers=admin, json={"ip": "nope", "severity": "sign_up_block"})
    assert bad.status_code == 422
    assert (await client.delete(f"/api/v1/admin/ip_blocks/{block['id']}", headers=admin)).status_code == 200
    assert (await client.get("/api/v1/admin/ip_blocks", headers=admin)).json() == []

    domain = await client.post("/api/v1/admin/email_domain_blocks", headers=admin, json={"domain": "Junk.Example"})
    assert domain.status_code == 200 and domain.json()["domain"] == "junk.example"
    listed = (await client.get("/api/v1/admin/email_domain_blocks", headers=admin)).json()
    assert [d["domain"] for d in listed] == ["junk.example"]
    assert (await client.delete("/api/v1/admin/email_domain_blocks/junk.example", headers=admin)).status_code == 200

    # A token with admin scopes is not enough: the admin role is required.
    moderator = await make_account("mod", role="moderator", scopes="read write admin:read admin:write")
    for who in (moderator, cast.alice):
        assert (await client.get("/api/v1/admin/ip_blocks", headers=who.headers)).status_code == 403
