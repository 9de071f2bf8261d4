"""The scorer's rules on their own: each reason, its points, and which signals reach the threshold alone."""

from __future__ import annotations

from starling.safety import fingerprint, policy
from starling.safety.policy import AccountFacts, DomainFacts, DuplicateFacts, PostFacts, Thresholds

T = Thresholds(new_account_hours=48, new_domain_hours=72, campaign_accounts=3)
QUARANTINE = 60


def codes(reasons):
    return [r.code for r in reasons]


def points(reasons):
    return sum(r.points for r in reasons)


def content(text="", age=1000.0, domains=(), **post):
    return policy.content_reasons(PostFacts(text=text, **post), list(domains), T, age)


def test_blocked_domain_alone_quarantines():
    reasons = content(domains=[DomainFacts("bad.example", blocked=True)])
    assert codes(reasons) == ["blocked_domain"] and points(reasons) >= QUARANTINE


def test_new_domains_are_a_whisper_alone_and_a_hint_from_new_accounts():
    aged = content(domains=[DomainFacts("fresh.example", age_hours=2)])
    young = content(domains=[DomainFacts("fresh.example", age_hours=None)], age=3)
    old_domain = content(domains=[DomainFacts("known.example", age_hours=500)], age=3)
    assert codes(aged) == codes(young) == ["new_domain"] and points(aged) < points(young) < QUARANTINE
    assert old_domain == []
    shortener = content(domains=[DomainFacts("bit.ly", age_hours=9999)])
    assert codes(shortener) == ["link_shortener"]
    many = content(domains=[DomainFacts(f"d{i}.example", age_hours=999) for i in range(3)])
    assert codes(many) == ["many_links"]


def test_mention_and_hashtag_stuffing_grow_with_the_count():
    assert content(mentions=3) == []
    four, eight = content(mentions=4), content(mentions=8)
    assert codes(four) == ["mention_stuffing"] and points(four) < points(eight) <= 60
    assert content(hashtags=4) == []
    assert codes(content(hashtags=9)) == ["hashtag_stuffing"] and points(content(hashtags=20)) == 50
    reply = content(mentions=3, reply_to_popular=True)
    assert codes(reply) == ["popular_reply_mentions"]


def test_scam_shapes_are_sentences_not_keywords():
    assert codes(content("Send 0.5 ETH to this address and we send double back")) == ["scam_pattern"]
    assert codes(content("Your account will be suspended unless you verify it today")) == ["scam_pattern"]
    assert codes(content("Import your seed phrase here to claim the airdrop reward"))[:2] == ["scam_pattern"] * 2
    # The same words in ordinary sentences match nothing.
    for text in ("I finally sent the crypto article to my dad, he laughed",
                 "The school giveaway raised money for the library",
                 "My account of the trip is on my blog, verify the dates if you like",
                 "Buy me a coffee sometime and I'll tell you about the followers of Kant"):
        assert content(text) == [], text


def test_duplicates_campaign_and_repetition():
    assert policy.duplicate_reasons(DuplicateFacts(), T) == []
    shared = policy.duplicate_reasons(DuplicateFacts(other_accounts=2, best_similarity=0.8), T)
    assert codes(shared) == ["shared_text"] and points(shared) < QUARANTINE
    campaign = policy.duplicate_reasons(DuplicateFacts(other_accounts=3, best_similarity=0.8), T)
    assert codes(campaign) == ["campaign"] and points(campaign) >= QUARANTINE
    bigger = policy.duplicate_reasons(DuplicateFacts(other_accounts=30, best_similarity=0.9), T)
    assert points(bigger) == 100
    assert codes(policy.duplicate_reasons(DuplicateFacts(own_repeats=2), T)) == ["repetition"]
    assert points(policy.duplicate_reasons(DuplicateFacts(own_repeats=5), T)) == 30


def behaviour(**facts):
    return policy.behaviour_reasons(AccountFacts(**{"age_hours": 1000.0, **facts}), T)


def test_behaviour_reasons():
    assert behaviour() == []
    assert codes(behaviour(age_hours=0.5)) == ["new_account"]
    assert points(behaviour(age_hours=0.5)) > points(behaviour(age_hours=10))
    assert codes(behaviour(age_hours=10, has_profile=False)) == ["new_account", "empty_profile"]
    metronome = tuple(1000.0 + 600 * i for i in range(8))
    assert codes(behaviour(post_times=metronome)) == ["regular_cadence"]
    human = (0.0, 50.0, 4000.0, 4100.0, 20000.0, 20500.0, 51000.0)
    assert behaviour(post_times=human) == []
    assert behaviour(post_times=metronome[:5]) == []  # too few posts to judge
    assert codes(behaviour(posts_last_hour=25)) == ["burst"]
    assert codes(behaviour(follows_today=80, unfollows_today=40)) == ["follow_churn"]
    assert behaviour(follows_today=40, unfollows_today=2) == []
    assert codes(behaviour(popular_reply_targets=3)) == ["reply_spray"]
    assert points(behaviour(popular_reply_targets=8)) > points(behaviour(popular_reply_targets=3))
    assert codes(behaviour(new_accounts_on_client=12)) == ["client_pattern"]
    assert codes(behaviour(new_accounts_on_address=6)) == ["address_pattern"]
    # No behaviour signal reaches the threshold alone.
    for single in (behaviour(age_hours=0.2, has_profile=False), behaviour(post_times=metronome),
                   behaviour(popular_reply_targets=9), behaviour(follows_today=200)):
        assert points(single) < QUARANTINE


def test_behaviour_alone_never_quarantines_a_post():
    bot_like = behaviour(age_hours=0.2, has_profile=False, post_times=tuple(60.0 * i for i in range(9)),
                         posts_last_hour=30, popular_reply_targets=7)
    assert points(bot_like) > 100
    assert policy.post_score(r.as_dict() for r in bot_like) == policy.BEHAVIOUR_CAP_PER_POST < QUARANTINE
    # With some evidence in the text, behaviour tips it over.
    stuffed = content(mentions=4)
    assert policy.post_score(r.as_dict() for r in [*bot_like, *stuffed]) >= QUARANTINE
    # Repetition by one person, even from a brand-new bare account, stays below the threshold.
    alone = [*policy.duplicate_reasons(DuplicateFacts(own_repeats=50), T), *behaviour(age_hours=0.1,
                                                                                   has_profile=False)]
    assert policy.post_score(r.as_dict() for r in alone) < QUARANTINE


def test_account_score_is_its_worst_post_or_its_behaviour():
    assert policy.account_score([], []) == 0
    assert policy.account_score([10, 70, 20], []) == 70
    assert policy.account_score([10], behaviour(age_hours=0.5, post_times=tuple(60.0 * i for i in range(9)))) == 55


def test_fingerprints_see_through_small_variations_only():
    a = fingerprint.signature("Huge giveaway today! Send 0.1 BTC to the wallet below and get double back, hurry "
                              "https://abc.coin-gift.example/1?ref=2")
    b = fingerprint.signature("HUGE giveaway today!! send 0.5 btc to the wallet below and get double back, hurry "
                              "https://zz.coin-gift.example/77 🔥")
    c = fingerprint.signature("Walked the dog along the canal this morning, the herons were out fishing again")
    assert fingerprint.similarity(a, b) >= 0.6 > fingerprint.similarity(a, c)
    assert set(fingerprint.band_keys(a)) & set(fingerprint.band_keys(b))
    assert fingerprint.signature("thanks!") is None  # too short to call a duplicate
    assert fingerprint.from_bytes(fingerprint.to_bytes(a)).tolist() == a.tolist()
    assert fingerprint.canonical("See @bob https://x.y.Example.com/p?q=1 now!!") == "see example com now"
