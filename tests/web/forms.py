"""Driving the web app's forms from server-side tests: the CSRF token on a page, and signing in."""

from __future__ import annotations

import re

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def sign_in(client, who) -> str:
    """Sign `who` in through the form; returns a CSRF token for the forms that follow."""
    page = await client.get("/auth/sign_in")
    token = TOKEN.search(page.text).group(1)
    response = await client.post("/auth/sign_in", data={"csrf_token": token, "username": who.username,
                                                        "password": who.password, "next": "/home"})
    assert response.status_code == 303, response.text
    return token
