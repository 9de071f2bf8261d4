"""update_credentials keeps what Mastodon 4.4 and 4.5 apps set in the account's source: the domains
allowed to credit the person as an author, and who may quote their posts by default; bad values are
refused with Mastodon's 422 and change nothing."""

from __future__ import annotations

URL = "/api/v1/accounts/update_credentials"


async def source(client, who) -> dict:
    r = await client.get("/api/v1/accounts/verify_credentials", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["source"]


async def test_defaults_are_none_and_public(client, cast):
    got = await source(client, cast.alice)
    assert got["attribution_domains"] == [] and got["quote_policy"] == "public"


async def test_attribution_domains_are_kept_normalised_and_cleared(client, cast):
    r = await client.patch(URL, data={"attribution_domains[]": ["Example.COM", "https://blog.example.org/",
                                                                 "*.news.example", "example.com", "example.com/"]},
                           headers=cast.alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["source"]["attribution_domains"] == ["example.com", "blog.example.org", "news.example"]
    assert (await source(client, cast.alice))["attribution_domains"] == ["example.com", "blog.example.org",
                                                                         "news.example"]
    other = await client.get(f"/api/v1/accounts/{cast.alice.id}", headers=cast.bob.headers)
    assert "source" not in other.json()  # only the person sees their source

    r = await client.patch(URL, json={"display_name": "Alice"}, headers=cast.alice.headers)
    assert r.json()["source"]["attribution_domains"] == ["example.com", "blog.example.org", "news.example"]
    r = await client.patch(URL, data={"attribution_domains[]": ""}, headers=cast.alice.headers)
    assert r.json()["source"]["attribution_domains"] == []


async def test_bad_domains_are_refused_and_nothing_changes(client, cast):
    await client.patch(URL, json={"attribution_domains": ["keep.example"]}, headers=cast.alice.headers)
    for bad in (["not a domain"], ["under_score.example"], ["nodot"], [f"d{i}.example" for i in range(101)]):
        r = await client.patch(URL, json={"attribution_domains": bad, "display_name": "changed"},
                               headers=cast.alice.headers)
        assert r.status_code == 422, bad
        assert "attribution_domains" in r.json()["details"]
    after = await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)
    assert after.json()["source"]["attribution_domains"] == ["keep.example"]
    assert after.json()["display_name"] != "changed"


async def test_quote_policy_is_one_of_three(client, cast):
    r = await client.patch(URL, data={"source[quote_policy]": "followers"}, headers=cast.alice.headers)
    assert r.status_code == 200 and r.json()["source"]["quote_policy"] == "followers"
    r = await client.patch(URL, json={"source": {"quote_policy": "everyone"}}, headers=cast.alice.headers)
    assert r.status_code == 422 and "source.quote_policy" in r.json()["details"]
    assert (await source(client, cast.alice))["quote_policy"] == "followers"
