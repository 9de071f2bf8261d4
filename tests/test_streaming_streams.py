"""Stream names as clients send them, and which public streams a status belongs on (pure rules)."""

from __future__ import annotations

import pytest

from starling.errors import BadRequest, Unprocessable
from starling.posts.models import DIRECT, PRIVATE, PUBLIC, UNLISTED
from starling.streaming import streams
from starling.streaming.streams import Stream


def test_parse_names_tags_and_lists():
    assert streams.parse("user") == Stream("user")
    assert streams.parse("hashtag", tag="#Cats ") == Stream("hashtag", "cats")
    assert streams.parse("hashtag:local", tag="cats").label == ["hashtag:local", "cats"]
    assert streams.parse("list", list_id="42").label == ["list", "42"]
    assert streams.parse("public:local").personal is False
    assert streams.parse("direct").personal is True


@pytest.mark.parametrize(("name", "tag", "list_id", "error"), [
    (None, None, None, "Unknown stream type"),
    ("everything", None, None, "Unknown stream type"),
    ("hashtag", None, None, "No tag for stream provided"),
    ("hashtag", "#", None, "No tag for stream provided"),
    ("list", None, None, "No list for stream provided"),
    ("list", None, "12a", "No list for stream provided"),
])
def test_parse_refuses_what_mastodon_refuses(name, tag, list_id, error):
    with pytest.raises(BadRequest) as refused:
        streams.parse(name, tag=tag, list_id=list_id)
    assert refused.value.message == error


def test_parse_bounds_tag_length():
    with pytest.raises(Unprocessable):
        streams.parse("hashtag", tag="a" * (streams.MAX_TAG + 1))


def facts(**changes):
    base = {"visibility": PUBLIC, "boost": False, "reply_to_other": False, "has_media": False, "tags": ()}
    return streams.on_public_streams(**{**base, **changes})


def test_public_streams_carry_public_top_level_posts_only():
    assert facts() == {Stream("public"), Stream("public:local")}
    assert Stream("public:media") in facts(has_media=True)
    assert {Stream("hashtag", "cats"), Stream("hashtag:local", "cats")} <= facts(tags=["cats"])
    for hidden in (facts(visibility=UNLISTED), facts(visibility=PRIVATE), facts(visibility=DIRECT),
                   facts(boost=True), facts(reply_to_other=True)):
        assert hidden == set()
