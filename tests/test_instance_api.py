

async def test_instance_activity_counts_this_weeks_posts_and_sign_ups(client, cast):
    await client.post("/api/v1/statuses", json={"status": "one"}, headers=cast.alice.headers)
    await client.post("/api/v1/statuses", json={"status": "two"}, headers=cast.bob.headers)
    weeks = (await client.get("/api/v1/instance/activity")).json()
    assert len(weeks) == 12
    assert int(weeks[0]["week"]) > int(weeks[1]["week"])
    assert weeks[0]["statuses"] == "2"
    assert weeks[0]["registrations"] == "5"  # the cast
    assert all(w["statuses"] == "0" for w in weeks[1:])
