"""Email confirmation through a real SMTP server (aiosmtpd on a spare port): the mail arrives, its link
confirms the account, and until then the account cannot post or follow."""

from __future__ import annotations

import email
import re
import time
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from starling import clock
from starling.accounts.models import Account
from starling.infra import mail
from starling.safety import signup
from tests.live import free_port


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def settings(settings, inbox):
    _, port = inbox
    settings.smtp_host = "127.0.0.1"
    settings.smtp_port = port
    settings.smtp_security = "none"
    settings.smtp_from = "Starling <noreply@testserver>"
    return settings


async def _register(client, name: str) -> str:
    app = (await client.post("/api/v1/apps", json={"client_name": "Signup", "redirect_uris": "myapp://cb",
                                                   "scopes": "read write follow"})).json()
    token = (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "read write follow"})).json()["access_token"]
    response = await client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, json={
        "username": name, "email": f"{name}@example.org", "password": "a long enough password",
        "agreement": True, "locale": "en"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"http://testserver(/auth/confirmation\?confirmation_token=\S+)", body)
    assert found, body
    return found.group(1)


async def _wait_for(inbox: Inbox, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) >= count


async def test_sign_up_sends_a_link_that_confirms(client, ctx, drain, inbox, cast):
    handler, _ = inbox
    token = await _register(client, "mailer")
    me = {"Authorization": f"Bearer {token}"}
    async with ctx.db.read() as session:
        account = (await session.execute(select(Account).where(Account.username == "mailer"))).scalar_one()
    assert account.confirmed_at is None
    # Unconfirmed: cannot post or follow yet.
    refused = await client.post("/api/v1/statuses", json={"status": "hello"}, headers=me)
    assert refused.status_code == 403
    assert refused.json()["error"] == "Your login is missing a confirmed e-mail address"
    assert (await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=me)).status_code == 403

    await drain()
    await _wait_for(handler, 1)
    message = handler.messages[0]
    assert message["To"] == "mailer@example.org"
    assert message["From"] == "Starling <noreply@testserver>"
    assert "Confirm your email address" in message["Subject"]
    link = _link(message)

    page = await client.get(link)
    assert page.status_code == 200 and "Your email address is confirmed" in page.text
    async with ctx.db.read() as session:
        assert (await session.get(Account, account.id)).confirmed_at is not None
    assert (await client.post("/api/v1/statuses", json={"status": "hello, confirmed"}, headers=me)).status_code == 200
    # The link can be opened again harmlessly; nothing is sent for a confirmed account.
    assert (await client.get(link)).status_code == 200
    assert (await client.post("/api/v1/emails/confirmations", headers=me)).status_code == 200
    await drain()
    assert len(handler.messages) == 1


async def test_resend_and_bad_links(client, ctx, drain, inbox):
    handler, _ = inbox
    token = await _register(client, "forgetful")
    await drain()
    await _wait_for(handler, 1)
    assert (await client.post("/api/v1/emails/confirmations",
                              headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await drain()
    await _wait_for(handler, 2)
    link = _link(handler.messages[1])
    tampered = link[:-1] + ("0" if link[-1] != "0" else "1")
    page = await client.get(tampered)
    assert page.status_code == 422 and "not valid" in page.text
    assert (await client.get("/auth/confirmation?confirmation_token=nonsense")).status_code == 422
    clock.set_now(clock.now() + timedelta(hours=49))
    expired = await client.get(link)
    assert expired.status_code == 422 and "expired" in expired.text


async def test_no_smtp_means_no_confirmation(client, ctx):
    ctx.settings.smtp_host = ""
    await _register(client, "quiet")
    async with ctx.db.read() as session:
        account = (await session.execute(select(Account).where(Account.username == "quiet"))).scalar_one()
    assert account.confirmed_at is not None


def test_unreachable_server_raises(settings):
    settings.smtp_port = free_port()  # nothing listens there
    with pytest.raises(mail.MailError, match="failed"):
        mail.send_now(settings, mail.build_message(settings, "a@example.org", "s", "t"))
    assert signup.confirmation_url(settings, "1.2.3").startswith("http://testserver/auth/confirmation?")
