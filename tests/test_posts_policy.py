"""The visibility, boost and pin rules on their own, over plain facts."""

from __future__ import annotations

from dataclasses import dataclass

from starling.posts.models import DIRECT, PRIVATE, PUBLIC, UNLISTED
from starling.posts.policy import Viewer, boost_visibility, may_boost, may_see, pin_refusal

AUTHOR, FOLLOWER, MENTIONED, STRANGER = 1, 2, 3, 4


@dataclass
class Facts:
    id: int
    account_id: int
    visibility: int
    reblog_of_id: int | None = None
    quarantined: bool = False


def viewer(who: int | None, *, following=(), blocked=(), mentioned_in=()) -> Viewer:
    return Viewer(who, frozenset(following), frozenset(blocked), frozenset(mentioned_in))


def sees(status: Facts, who: Viewer, *, original: Facts | None = None, suspended=()) -> bool:
    return may_see(status, original, who, set(suspended))


def test_public_and_unlisted_are_visible_to_anyone():
    for visibility in (PUBLIC, UNLISTED):
        status = Facts(10, AUTHOR, visibility)
        assert sees(status, viewer(None)) and sees(status, viewer(STRANGER))


def test_private_is_for_the_author_followers_and_mentioned():
    status = Facts(10, AUTHOR, PRIVATE)
    assert sees(status, viewer(AUTHOR))
    assert sees(status, viewer(FOLLOWER, following={AUTHOR}))
    assert sees(status, viewer(MENTIONED, mentioned_in={10}))
    assert not sees(status, viewer(STRANGER))
    assert not sees(status, viewer(None))
    assert not sees(status, viewer(STRANGER, mentioned_in={11}))


def test_direct_is_for_the_author_and_mentioned_only():
    status = Facts(10, AUTHOR, DIRECT)
    assert sees(status, viewer(AUTHOR))
    assert sees(status, viewer(MENTIONED, mentioned_in={10}))
    assert not sees(status, viewer(FOLLOWER, following={AUTHOR}))
    assert not sees(status, viewer(None))


def test_blocks_hide_either_way_but_never_from_the_author():
    status = Facts(10, AUTHOR, PUBLIC)
    assert not sees(status, viewer(STRANGER, blocked={AUTHOR}))
    assert not sees(Facts(11, AUTHOR, DIRECT), viewer(MENTIONED, blocked={AUTHOR}, mentioned_in={11}))
    assert sees(status, viewer(AUTHOR, blocked={STRANGER}))


def test_suspended_authors_are_hidden_even_from_themselves():
    status = Facts(10, AUTHOR, PUBLIC)
    assert not sees(status, viewer(None), suspended={AUTHOR})
    assert not sees(status, viewer(AUTHOR), suspended={AUTHOR})


def test_a_boost_is_visible_only_when_its_original_is():
    original = Facts(10, AUTHOR, PUBLIC)
    boost = Facts(20, FOLLOWER, PUBLIC, reblog_of_id=10)
    assert sees(boost, viewer(STRANGER), original=original)
    assert not sees(boost, viewer(STRANGER), original=None)
    assert not sees(boost, viewer(STRANGER, blocked={AUTHOR}), original=original)
    assert not sees(boost, viewer(STRANGER), original=original, suspended={AUTHOR})
    private_original = Facts(11, AUTHOR, PRIVATE)
    self_boost = Facts(21, AUTHOR, PRIVATE, reblog_of_id=11)
    assert not sees(self_boost, viewer(STRANGER), original=private_original)
    assert sees(self_boost, viewer(FOLLOWER, following={AUTHOR}), original=private_original)


def test_boost_rules():
    assert may_boost(Facts(1, AUTHOR, PUBLIC), STRANGER)
    assert may_boost(Facts(1, AUTHOR, UNLISTED), STRANGER)
    assert not may_boost(Facts(1, AUTHOR, PRIVATE), FOLLOWER)
    assert may_boost(Facts(1, AUTHOR, PRIVATE), AUTHOR)
    assert not may_boost(Facts(1, AUTHOR, DIRECT), AUTHOR)
    assert boost_visibility(Facts(1, AUTHOR, PRIVATE), PUBLIC) == PRIVATE
    assert boost_visibility(Facts(1, AUTHOR, PUBLIC), UNLISTED) == UNLISTED


def test_pin_rules():
    assert pin_refusal(Facts(1, AUTHOR, PUBLIC), AUTHOR, 4) is None
    assert pin_refusal(Facts(1, AUTHOR, UNLISTED), AUTHOR, 0) is None
    assert pin_refusal(Facts(1, AUTHOR, PUBLIC), AUTHOR, 5)
    assert pin_refusal(Facts(1, AUTHOR, PUBLIC), STRANGER, 0)
    assert pin_refusal(Facts(1, AUTHOR, PRIVATE), AUTHOR, 0)
    assert pin_refusal(Facts(1, AUTHOR, DIRECT), AUTHOR, 0)
    assert pin_refusal(Facts(2, AUTHOR, PUBLIC, reblog_of_id=1), AUTHOR, 0)
