"""Media uploads through the API: real images made with Pillow, real files on disk."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from starling.media import service as media_service


def jpeg(width: int = 64, height: int = 48, *, color=(200, 30, 40), exif=None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), color)
    image.save(buffer, "JPEG", **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def png(width: int = 40, height: int = 30, mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    color = (10, 200, 30, 128) if mode == "RGBA" else (10, 200, 30)
    Image.new(mode, (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


async def upload(client, who, data: bytes, *, filename="photo.jpg", version="v2", **fields):
    return await client.post(f"/api/{version}/media", headers=who.headers,
                             files={"file": (filename, data, "application/octet-stream")}, data=fields)


async def test_upload_returns_the_mastodon_entity_and_serves_the_files(client, cast):
    response = await upload(client, cast.alice, jpeg(64, 48), description="a red square", focus="0.5,-0.25")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "image" and body["id"].isdigit()
    assert body["description"] == "a red square"
    assert body["remote_url"] is None and body["text_url"] is None
    assert body["meta"]["original"] == {"width": 64, "height": 48, "size": "64x48",
                                        "aspect": pytest.approx(4 / 3)}
    assert body["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert body["blurhash"] and len(body["blurhash"]) >= 6
    assert body["url"].startswith("http://testserver/system/media/")
    original = await client.get(body["url"].removeprefix("http://testserver"))
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert original.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert original.headers.get("etag")
    assert Image.open(io.BytesIO(original.content)).size == (64, 48)
    preview = await client.get(body["preview_url"].removeprefix("http://testserver"))
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"


async def test_v1_upload_works_too_and_png_keeps_its_format(client, cast):
    response = await upload(client, cast.alice, png(), filename="x.jpg", version="v1")
    assert response.status_code == 200, response.text
    assert response.json()["url"].endswith(".png")


async def test_unknown_system_keys_and_traversal_are_404(client, ctx):
    (ctx.settings.data_dir / "outside.png").write_bytes(png())
    assert (await client.get("/system/..%2foutside.png")).status_code == 404
    for path in ("/system/media/1/nope/original.jpg", "/system/../starling.sqlite3",
                 "/system/%2e%2e/secret_key", "/system/media/..%2f..%2fstarling.sqlite3"):
        assert (await client.get(path)).status_code == 404, path


async def test_exif_orientation_applied_and_gps_stripped(client, cast, ctx):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    response = await upload(client, cast.alice, jpeg(80, 40, exif=exif))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["meta"]["original"]["width"], body["meta"]["original"]["height"]) == (40, 80)
    stored = (await client.get(body["url"].removeprefix("http://testserver"))).content
    assert b"SpyCam" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {}
    assert image.size == (40, 80)


async def test_dimensions_are_capped(client, cast, ctx):
    ctx.settings.media_max_side = 100
    ctx.settings.media_preview_side = 20
    response = await upload(client, cast.alice, jpeg(400, 200))
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert (meta["original"]["width"], meta["original"]["height"]) == (100, 50)
    assert (meta["small"]["width"], meta["small"]["height"]) == (20, 10)


async def test_animated_gif_keeps_its_first_frame_as_png(client, cast):
    frames = [Image.new("RGB", (30, 20), color) for color in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    response = await upload(client, cast.alice, buffer.getvalue(), filename="anim.gif")
    assert response.status_code == 200, response.text
    stored = await client.get(response.json()["url"].removeprefix("http://testserver"))
    image = Image.open(io.BytesIO(stored.content))
    assert image.format == "PNG" and getattr(image, "n_frames", 1) == 1
    assert image.convert("RGB").getpixel((5, 5))[0] > 200  # red: the first frame


async def test_bad_uploads_are_refused(client, cast, ctx):
    corrupt = jpeg()[:200]
    assert (await upload(client, cast.alice, corrupt)).status_code == 422
    assert (await upload(client, cast.alice, b"<?php echo 1; ?>", filename="a.png")).status_code == 422
    bmp = io.BytesIO()
    Image.new("RGB", (10, 10)).save(bmp, "BMP")
    refused = await upload(client, cast.alice, bmp.getvalue(), filename="pic.jpg")
    assert refused.status_code == 422 and "error" in refused.json()
    missing = await client.post("/api/v2/media", headers=cast.alice.headers, data={"description": "x"})
    assert missing.status_code == 422
    too_long = await upload(client, cast.alice, jpeg(), description="x" * 1501)
    assert too_long.status_code == 422
    assert (await upload(client, cast.alice, jpeg(), focus="2,0")).status_code == 422
    assert (await upload(client, cast.alice, jpeg(), focus="nan,0")).status_code == 422


async def test_oversized_upload_is_413(client, cast, ctx):
    ctx.settings.media_max_bytes = 1000
    response = await upload(client, cast.alice, jpeg(300, 300, color=(1, 2, 3)) + b"\0" * 2000)
    assert response.status_code == 413


async def test_decompression_bomb_is_refused(client, cast, ctx):
    ctx.settings.media_max_pixels = 10_000
    response = await upload(client, cast.alice, png(200, 200, mode="RGB"))
    assert response.status_code == 422
    assert "pixels" in response.json()["error"]


async def test_upload_needs_a_token_with_write_media(client, cast, make_account):
    assert (await client.post("/api/v2/media", files={"file": ("a.jpg", jpeg())})).status_code == 401
    reader = await make_account("reader", scopes="read")
    assert (await upload(client, reader, jpeg())).status_code == 403


async def test_show_and_update_only_for_the_owner(client, cast):
    media_id = (await upload(client, cast.alice, jpeg())).json()["id"]
    shown = await client.get(f"/api/v1/media/{media_id}", headers=cast.alice.headers)
    assert shown.status_code == 200 and shown.json()["id"] == media_id
    assert (await client.get(f"/api/v1/media/{media_id}", headers=cast.bob.headers)).status_code == 404
    assert (await client.put(f"/api/v1/media/{media_id}", headers=cast.bob.headers,
                             json={"description": "mine now"})).status_code == 404
    updated = await client.put(f"/api/v1/media/{media_id}", headers=cast.alice.headers,
                               json={"description": "better words", "focus": "-1,1"})
    assert updated.status_code == 200
    assert updated.json()["description"] == "better words"
    assert updated.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    too_big = await client.get("/api/v1/media/99999999999999999999", headers=cast.alice.headers)
    assert too_big.status_code == 404


async def test_delete_unattached_media_removes_its_files(client, cast, ctx):
    body = (await upload(client, cast.alice, jpeg())).json()
    path = body["url"].removeprefix("http://testserver")
    assert (await client.delete(f"/api/v1/media/{body['id']}", headers=cast.bob.headers)).status_code == 404
    assert (await client.delete(f"/api/v1/media/{body['id']}", headers=cast.alice.headers)).status_code == 200
    assert (await client.get(path)).status_code == 404


async def test_profile_images_are_cropped_and_capped(ctx):
    avatar_key = media_service.store_profile_image(ctx, jpeg(900, 600), "avatar")
    header_key = media_service.store_profile_image(ctx, jpeg(3000, 600), "header")
    assert Image.open(ctx.storage.path(avatar_key)).size == (400, 400)
    assert Image.open(ctx.storage.path(header_key)).size == (1500, 300)
    with pytest.raises(Exception) as refused:
        media_service.store_profile_image(ctx, b"nope", "avatar")
    assert getattr(refused.value, "status", None) == 422
