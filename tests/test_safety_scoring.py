"""The scorer at work: quarantine at creation (content, near-duplicates) and before fan-out (behaviour),
a quarantined post seen by its author alone on every read path, the moderation queue, thresholds from
settings, invalid traffic, and a moderator's release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from starling import clock
from starling.accounts.models import Account
from starling.posts.models import Status
from starling.safety import scoring
from starling.safety.models import ActivityCount, StatusScore
from tests.test_timelines_support import follow

# No scam words, no link: only the copies give it away.
SPAM = "Loving these polarised sunglasses, half price this weekend only, grab yours before they are gone"


async def post_api(client, who, text, **extra):
    r = await client.post("/api/v1/statuses", json={"status": text, **extra}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def score_of(ctx, status_id):
    async with ctx.db.read() as session:
        row = await session.get(StatusScore, int(status_id))
        status = await session.get(Status, int(status_id))
        return row, status.quarantined


async def test_blocked_link_domain_quarantines_at_creation_and_every_read_path_hides_it(client, ctx, cast, drain):
    await follow(ctx, cast.alice.id, cast.bob.id)
    r = await client.post("/api/v1/admin/link_domain_blocks", json={"domain": "bad-pills.example"},
                          headers=cast.admin.headers)
    assert r.status_code == 200
    assert (await client.post("/api/v1/admin/link_domain_blocks", json={"domain": "nope"},
                              headers=cast.admin.headers)).status_code == 422
    assert (await client.post("/api/v1/admin/link_domain_blocks", json={"domain": "x.example"},
                              headers=cast.alice.headers)).status_code == 403
    status_id = await post_api(client, cast.bob, "@alice cheap pills https://shop.bad-pills.example/buy #pills")
    row, quarantined = await score_of(ctx, status_id)
    assert quarantined and row.quarantined and "blocked_domain" in [r["code"] for r in row.reasons]
    # Before any job ran: nobody but the author sees it.
    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.bob.headers)).status_code == 200
    for who in (cast.alice.headers, cast.eve.headers, {}):
        assert (await client.get(f"/api/v1/statuses/{status_id}", headers=who)).status_code == 404
    await drain()
    for url in ("/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/pills",
                f"/api/v1/accounts/{cast.bob.id}/statuses", "/api/v1/notifications"):
        body = (await client.get(url, headers=cast.alice.headers)).json()
        assert status_id not in str(body), url
    own = (await client.get(f"/api/v1/accounts/{cast.bob.id}/statuses", headers=cast.bob.headers)).json()
    assert status_id in [s["id"] for s in own]
    found = (await client.get("/api/v2/search", params={"q": "cheap pills", "type": "statuses"},
                              headers=cast.alice.headers)).json()
    assert found["statuses"] == []
    reply = await client.post("/api/v1/statuses", json={"status": "hm", "in_reply_to_id": status_id},
                              headers=cast.alice.headers)
    assert reply.status_code == 404

    # The account is in the moderation queue with the evidence, and is invalid traffic.
    queue = (await client.get("/api/v1/admin/reports", headers=cast.admin.headers)).json()
    flag = next(r for r in queue if r["target_account"]["id"] == str(cast.bob.id))
    assert flag["source"] == "auto" and flag["account"] is None and flag["category"] == "spam"
    assert flag["statuses"][0]["id"] == status_id
    assert "blocked_domain" in [r["code"] for r in flag["status_scores"][status_id]["reasons"]]
    async with ctx.db.read() as session:
        assert await scoring.is_invalid_traffic(session, cast.bob.id)
        assert not await scoring.is_invalid_traffic(session, cast.alice.id)


async def test_a_campaign_is_caught_and_its_first_copies_with_it(client, ctx, make_account, drain):
    senders = [await make_account(f"sender{i}") for i in range(5)]
    async with ctx.db.write() as session:  # aged past every new-account rule
        await session.execute(update(Account).where(Account.id.in_([s.id for s in senders])).values(
            created_at=clock.utcnow_naive() - timedelta(days=90), display_name="Shop"))
    variants = [SPAM, SPAM.upper(), SPAM.replace("half price", "80% off") + " 🚀",
                "wow " + SPAM.replace("Loving", "Obsessed with"), SPAM.replace("grab yours", "get a pair")]
    made = [await post_api(client, who, text) for who, text in zip(senders, variants, strict=True)]
    states = [await score_of(ctx, s) for s in made]
    assert [q for _, q in states] == [True] * 5
    assert "campaign" in [r["code"] for r in states[3][0].reasons]
    assert any("found later" in r["detail"] for r in states[0][0].reasons), states[0][0].reasons
    # Different text from the same accounts is not touched.
    other = await post_api(client, senders[0], "Completely unrelated musing about the canal herons this morning")
    assert (await score_of(ctx, other))[1] is False


async def test_behaviour_tips_a_suspicious_post_over_and_it_is_not_fanned_out(client, ctx, make_account, cast, drain):
    bot = await make_account("metronome")
    await follow(ctx, cast.alice.id, bot.id)
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    async with ctx.db.write() as session:
        await session.execute(update(Account).where(Account.id == bot.id).values(
            created_at=clock.to_naive(start - timedelta(hours=5))))
    last = None
    for i in range(7):  # a post every ten minutes, to the second
        clock.set_now(start + timedelta(minutes=10 * i))
        text = ["Rain again over the harbour, ferries running late", "Market stalls are setting up early today",
                "The library extended its opening hours for exams", "Road works on the high street until Friday",
                "Swimming pool reopens after the boiler repair", "Choir rehearsal moved to the church hall",
                "New bakery on Mill Lane sells rye bread"][i]
        if i == 6:
            text = "@alice @bob @carol @eve " + text
        last = await post_api(client, bot, text)
        if i == 6:  # its text shows something, so its behaviour is weighed at once: held before any job
            assert (await score_of(ctx, last))[1] is True
        await drain()
    row, quarantined = await score_of(ctx, last)
    codes = [r["code"] for r in row.reasons]
    assert quarantined and "regular_cadence" in codes and "mention_stuffing" in codes
    home = (await client.get("/api/v1/timelines/home", headers=cast.alice.headers)).json()
    assert last not in [s["id"] for s in home] and len(home) == 6
    mine = (await client.get("/api/v1/timelines/home", headers=bot.headers)).json()
    assert last in [s["id"] for s in mine]

    # A moderator releases it: it goes out after all, and the scorer leaves it alone.
    r = await client.post(f"/api/v1/admin/statuses/{last}/action", json={"type": "release"},
                          headers=cast.admin.headers)
    assert r.status_code == 200
    await drain()
    home = (await client.get("/api/v1/timelines/home", headers=cast.alice.headers)).json()
    assert last in [s["id"] for s in home]
    assert (await score_of(ctx, last))[1] is False


async def test_thresholds_come_from_settings(client, ctx, cast, make_account):
    ctx.settings.spam_blocked_domains = "spam.example"
    quarantined = await post_api(client, cast.bob, "look https://a.spam.example/x")
    assert (await score_of(ctx, quarantined))[1] is True
    ctx.settings.spam_quarantine_score = 1000
    kept = await post_api(client, cast.bob, "look again https://b.spam.example/y")
    row, state = await score_of(ctx, kept)
    assert state is False and row.score >= 100
    ctx.settings.spam_scoring_enabled = False
    unscored = await post_api(client, cast.bob, "and again https://c.spam.example/z")
    assert (await score_of(ctx, unscored)) == (None, False)


async def test_invalid_traffic_answers_for_billing(client, ctx, cast):
    async with ctx.db.read() as session:
        assert await scoring.invalid_traffic_among(session, [cast.alice.id, cast.bob.id]) == set()
    ctx.settings.spam_blocked_domains = "spam.example"
    await post_api(client, cast.bob, "https://spam.example")
    r = await client.post(f"/api/v1/admin/accounts/{cast.eve.id}/action", json={"type": "suspend"},
                          headers=cast.admin.headers)
    assert r.status_code == 200
    async with ctx.db.read() as session:
        assert await scoring.invalid_traffic_among(session, [cast.alice.id, cast.bob.id, cast.eve.id]) == {
            cast.bob.id, cast.eve.id}
    # A moderator's undo clears the flag: bob is a person after all.
    await client.post(f"/api/v1/admin/accounts/{cast.bob.id}/action", json={"type": "silence"},
                      headers=cast.admin.headers)
    await client.post(f"/api/v1/admin/accounts/{cast.bob.id}/unsilence", headers=cast.admin.headers)
    async with ctx.db.read() as session:
        assert not await scoring.is_invalid_traffic(session, cast.bob.id)


async def test_follow_churn_is_counted(client, ctx, cast):
    for _ in range(3):
        await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.eve.headers)
        await client.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.eve.headers)
    async with ctx.db.read() as session:
        counts = {row.kind: row.count for row in await session.scalars(
            select(ActivityCount).where(ActivityCount.account_id == cast.eve.id))}
    assert counts == {"follow": 3, "unfollow": 3}


async def test_replies_sprayed_at_popular_accounts(client, ctx, cast, make_account, drain):
    stars = [await make_account(f"star{i}") for i in range(4)]
    async with ctx.db.write() as session:
        await session.execute(update(Account).where(Account.id.in_([s.id for s in stars]))
                              .values(followers_count=50_000))
    news = ["Tour dates are out", "New album cover reveal tonight", "Thank you for a million plays",
            "Behind the scenes of the video shoot"]
    roots = [await post_api(client, s, text) for s, text in zip(stars, news, strict=True)]
    replies = []
    for i, root in enumerate(roots):
        replies.append(await post_api(client, cast.eve, f"nice one {i}", in_reply_to_id=root))
        await drain()
    row, _ = await score_of(ctx, replies[-1])
    assert "reply_spray" in [r["code"] for r in row.reasons]


async def test_many_sign_ups_from_one_address(client, ctx, make_account, drain):
    from starling.safety.models import SignUp

    farm = [await make_account(f"farm{i}") for i in range(6)]
    async with ctx.db.write() as session:
        session.add_all([SignUp(account_id=a.id, ip="203.0.113.7") for a in farm])
    status_id = await post_api(client, farm[0], "Just a quiet first post from a brand new account here")
    await drain()
    row, _ = await score_of(ctx, status_id)
    assert "address_pattern" in [r["code"] for r in row.reasons]


async def test_quarantined_posts_do_not_make_a_hashtag_trend(client, ctx, make_account):
    from starling.search import trends

    ctx.settings.spam_blocked_domains = "spam.example"
    for i in range(4):
        who = await make_account(f"trender{i}")
        await post_api(client, who, f"#cheapwatches number {i} https://spam.example/{i}")
    trends.clear_cache()
    names = [t["name"] for t in (await client.get("/api/v1/trends/tags")).json()]
    assert "cheapwatches" not in names


async def test_editing_a_post_into_spam_quarantines_it(client, ctx, cast, drain):
    status_id = await post_api(client, cast.bob, "Lovely walk by the river this morning")
    await drain()
    assert (await score_of(ctx, status_id))[1] is False
    ctx.settings.spam_blocked_domains = "spam.example"
    r = await client.put(f"/api/v1/statuses/{status_id}", json={"status": "Cheap pills https://spam.example/buy"},
                         headers=cast.bob.headers)
    assert r.status_code == 200, r.text
    row, quarantined = await score_of(ctx, status_id)
    assert quarantined and "blocked_domain" in [r["code"] for r in row.reasons]
    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.alice.headers)).status_code == 404
    # Editing it back does not lift the quarantine: that is a moderator's call.
    await client.put(f"/api/v1/statuses/{status_id}", json={"status": "Lovely walk"}, headers=cast.bob.headers)
    assert (await score_of(ctx, status_id))[1] is True
