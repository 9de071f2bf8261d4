"""Outgoing mail over SMTP (the standard library's smtplib, run on a thread so the event loop never waits
on a mail server). Configured by the smtp_* settings; without smtp_host nothing is sent."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from starling.config import Settings


class MailError(Exception):
    pass


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def sender(settings: Settings) -> str:
    return settings.smtp_from or f"notifications@{settings.domain.split(':')[0]}"


def build_message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender(settings)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.domain.split(":")[0])
    message.set_content(text)
    return message


def send_now(settings: Settings, message: EmailMessage) -> None:
    """Deliver one message, blocking. Raises MailError when the server refuses it or cannot be reached."""
    if not configured(settings):
        raise MailError("SMTP is not configured (STARLING_SMTP_HOST)")
    try:
        if settings.smtp_security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                                    timeout=settings.smtp_timeout_seconds,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"sending mail through {settings.smtp_host}:{settings.smtp_port} failed: {exc}") from exc


async def send(settings: Settings, to: str, subject: str, text: str) -> None:
    """Deliver a plain-text message without blocking the event loop."""
    await asyncio.to_thread(send_now, settings, build_message(settings, to, subject, text))
