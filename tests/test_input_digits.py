"""Digits outside ASCII ("²", "٣") pass str.isdigit() but not int(): every place that reads a number
from a client must refuse them as it refuses other junk, not fail with a 500. Schemathesis found the
first one (`favourite-²8` as a notification group key)."""

from __future__ import annotations

import pytest

from starling import ids
from starling.errors import Unprocessable
from starling.safety import pow, signup

ODD = ("²8", "٣", "1²")


@pytest.mark.parametrize("raw", ODD)
def test_parse_id_refuses_non_ascii_digits(raw):
    assert ids.parse_id(raw) is None
    assert ids.parse_id("42") == 42


@pytest.mark.parametrize("raw", ODD)
def test_proof_of_work_refuses_them(raw):
    with pytest.raises(pow.ProofRefused):
        pow.check("secret", f"{pow.VERSION}.{raw}.18.abc.mac", "1", min_difficulty=1)


async def test_confirmation_link_refuses_them(ctx):
    async with ctx.db.write() as session:
        with pytest.raises(Unprocessable):
            await signup.confirm_email(session, ctx.settings, "²8.123.mac")


@pytest.mark.parametrize("raw", ODD)
async def test_api_paths_and_parameters_answer_without_a_5xx(client, cast, raw):
    page = await client.get("/api/v1/timelines/public", params={"max_id": raw})
    assert page.status_code == 200
    group = await client.get(f"/api/v2/notifications/favourite-{raw}", headers=cast.alice.headers)
    assert group.status_code == 404
    trends = await client.get("/api/v1/trends/tags", params={"limit": raw, "offset": raw})
    assert trends.status_code == 200
    stream = await client.get("/api/v1/streaming/list", params={"list": raw}, headers=cast.alice.headers)
    assert stream.status_code == 400
