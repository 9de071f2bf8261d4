"""`DELETE /api/v1/statuses/:id?delete_media=true` (Mastodon's parameter): without it a deleted post's
media stay attachable (delete and redraft); with it the attachments' rows go in the delete's transaction
and their files once it has committed, and attaching them again is refused."""

from __future__ import annotations

from starling.config import media_dir
from tests.test_media_upload import jpeg, upload


async def _post_with_media(client, who, text: str) -> tuple[str, dict]:
    media = (await upload(client, who, jpeg(32, 24))).json()
    r = await client.post("/api/v1/statuses", json={"status": text, "media_ids": [media["id"]]},
                          headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"], media


def _files(settings, media: dict) -> list:
    root = media_dir(settings)
    return [root / url.split("/system/", 1)[1] for url in (media["url"], media["preview_url"])]


async def test_without_delete_media_the_media_can_be_redrafted(client, cast, drain, settings):
    status_id, media = await _post_with_media(client, cast.alice, "first draft")
    deleted = await client.delete(f"/api/v1/statuses/{status_id}", headers=cast.alice.headers)
    assert deleted.status_code == 200
    assert [m["id"] for m in deleted.json()["media_attachments"]] == [media["id"]]
    await drain()
    assert all(path.exists() for path in _files(settings, media))
    again = await client.post("/api/v1/statuses", json={"status": "second draft", "media_ids": [media["id"]]},
                              headers=cast.alice.headers)
    assert again.status_code == 200, again.text
    assert [m["id"] for m in again.json()["media_attachments"]] == [media["id"]]


async def test_delete_media_removes_rows_then_files_and_refuses_reattaching(client, cast, drain, settings):
    status_id, media = await _post_with_media(client, cast.alice, "gone for good")
    files = _files(settings, media)
    assert all(path.exists() for path in files)
    deleted = await client.delete(f"/api/v1/statuses/{status_id}", params={"delete_media": "true"},
                                  headers=cast.alice.headers)
    assert deleted.status_code == 200
    # The response still shows what was deleted (for the client's own records).
    assert [m["id"] for m in deleted.json()["media_attachments"]] == [media["id"]]
    # The row went with the status: the attachment is unknown at once, and cannot be posted again.
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=cast.alice.headers)).status_code == 404
    refused = await client.post("/api/v1/statuses", json={"status": "redraft", "media_ids": [media["id"]]},
                                headers=cast.alice.headers)
    assert refused.status_code == 422 and "error" in refused.json()
    # The files go after the commit, through the job.
    assert await drain() >= 1
    assert not any(path.exists() for path in files)


async def test_delete_media_in_a_body_and_only_for_the_owner(client, cast, drain, settings):
    status_id, media = await _post_with_media(client, cast.alice, "mine to delete")
    stranger = await client.request("DELETE", f"/api/v1/statuses/{status_id}", json={"delete_media": True},
                                    headers=cast.bob.headers)
    assert stranger.status_code == 404
    await drain()
    assert all(path.exists() for path in _files(settings, media))
    # As Mastodon.py sends it: a form body with "1".
    owner = await client.request("DELETE", f"/api/v1/statuses/{status_id}", data={"delete_media": "1"},
                                 headers=cast.alice.headers)
    assert owner.status_code == 200
    await drain()
    assert not any(path.exists() for path in _files(settings, media))
