"""The spam and bot scorer's rules: pure functions from facts (gathered in bulk by safety.scoring) to
points with reasons. Nothing here reads the database or the clock.

Each rule adds points and says why. A post's score is its content, near-duplicate and behaviour points
together; at Settings.spam_quarantine_score it is quarantined. The weights are chosen so that no single
weak signal (a new account, a new link domain, one mention too many) can reach the threshold alone,
while a strong one (a blocked domain, the same text from several accounts) can.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_SCORE = 1000
BEHAVIOUR_CODES = frozenset({"new_account", "empty_profile", "regular_cadence", "burst", "follow_churn",
                             "reply_spray", "client_pattern", "address_pattern"})
# Behaviour alone never quarantines a post (a script posting fast from a new account may be a person's
# tool): it adds at most this much to what the post's text and its copies show. It still counts in full
# towards the account's score, and so towards invalid traffic and the moderation queue.
BEHAVIOUR_CAP_PER_POST = 50

# Link shorteners hide where a link goes; spam uses them far more than people do.
SHORTENERS = frozenset({"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly",
                        "rebrand.ly", "shorturl.at", "rb.gy", "tiny.cc", "s.id"})

# Known scam shapes: each is a family of sentences, not a keyword; matched on normalised lower-case text.
SCAM_PATTERNS: dict[str, re.Pattern[str]] = {name: re.compile(pattern) for name, pattern in {
    "crypto_doubling": r"\b(send|deposit|transfer)\b.{0,50}\b(btc|eth|usdt|bitcoin|ether|crypto|coins?|tokens?)\b"
                       r".{0,80}\b(back|double[sd]?|2x|twice|triple)\b",
    "prize_claim": r"\b(claim|collect|redeem)\b.{0,40}\b(prize|reward|airdrop|giveaway|gift ?cards?|bonus)\b",
    "account_threat": r"\byour (account|profile|page)\b.{0,50}\b(suspend\w*|lock\w*|disabl\w*|delet\w*|"
                      r"verif\w*|restrict\w*)\b",
    "private_contact_profit": r"\b(dm|inbox|whatsapp|telegram|message me)\b.{0,50}\b(profit|invest\w*|earn\w*|"
                              r"income|signals?|returns?)\b",
    "guaranteed_returns": r"\b(guarantee\w*|risk[- ]?free)\b.{0,40}\b(returns?|profits?|income|earnings?)\b"
                          r"|\b\d{2,4} ?% (daily|weekly|returns?|profits?)\b",
    "follower_sales": r"\b(buy|cheap|instant|get)\b.{0,25}\b\d*k? ?(followers|likes|views|subscribers)\b",
    "wallet_drain": r"\b(seed phrase|recovery phrase|private key|connect (your )?wallet|validate (your )?wallet)\b",
}.items()}


@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    detail: str = ""

    def as_dict(self) -> dict:
        return {"code": self.code, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class Thresholds:
    """The settings the rules read (see Settings.spam_*)."""

    new_account_hours: float = 48
    new_domain_hours: float = 72
    campaign_accounts: int = 3


@dataclass(frozen=True)
class PostFacts:
    text: str
    mentions: int = 0
    hashtags: int = 0
    domains: tuple[str, ...] = ()
    reply_to_popular: bool = False


@dataclass(frozen=True)
class DomainFacts:
    domain: str
    blocked: bool = False
    age_hours: float | None = None  # since this instance first saw it; None: first seen now


@dataclass(frozen=True)
class DuplicateFacts:
    """Near-duplicates of the post seen within the window."""

    other_accounts: int = 0  # distinct other accounts that posted near the same text
    own_repeats: int = 0  # earlier posts of the same account with near the same text
    best_similarity: float = 0.0


@dataclass(frozen=True)
class AccountFacts:
    age_hours: float
    has_profile: bool = True  # display name, bio or avatar
    post_times: tuple[float, ...] = ()  # seconds, oldest first, the recent posts including this one
    posts_last_hour: int = 0
    follows_today: int = 0
    unfollows_today: int = 0
    popular_reply_targets: int = 0  # distinct popular accounts replied to in the last day
    new_accounts_on_client: int = 0  # new accounts posting through this post's (new) application today
    new_accounts_on_address: int = 0  # accounts signed up from this account's sign-up address today


@dataclass
class Verdict:
    reasons: list[Reason] = field(default_factory=list)

    @property
    def score(self) -> int:
        return post_score(r.as_dict() for r in self.reasons)

    def add(self, reasons: Iterable[Reason]) -> Verdict:
        self.reasons.extend(reasons)
        return self

    def as_list(self) -> list[dict]:
        return [r.as_dict() for r in self.reasons]


def post_score(reasons: Iterable[dict]) -> int:
    """A post's score from its reasons (as stored): everything its text shows, plus its account's
    behaviour up to BEHAVIOUR_CAP_PER_POST."""
    behaviour = evidence = 0
    for reason in reasons:
        if reason["code"] in BEHAVIOUR_CODES:
            behaviour += reason["points"]
        else:
            evidence += reason["points"]
    return max(0, min(MAX_SCORE, evidence + min(behaviour, BEHAVIOUR_CAP_PER_POST)))


def normalise(text: str) -> str:
    """Lower-case, with runs of whitespace collapsed: what the patterns and fingerprints read."""
    return " ".join(text.lower().split())


def scam_reasons(text: str) -> list[Reason]:
    """Known scam shapes in the text: 35 points each, 70 at most."""
    flat = normalise(text)
    hits = [name for name, pattern in SCAM_PATTERNS.items() if pattern.search(flat)]
    return [Reason("scam_pattern", 35, name) for name in hits[:2]]


def content_reasons(post: PostFacts, domains: Sequence[DomainFacts], t: Thresholds,
                    account_age_hours: float) -> list[Reason]:
    """Links, mention and hashtag stuffing and scam shapes."""
    reasons: list[Reason] = []
    new_account = account_age_hours < t.new_account_hours
    for domain in domains:
        if domain.blocked:
            reasons.append(Reason("blocked_domain", 100, domain.domain))
        elif domain.domain in SHORTENERS:
            reasons.append(Reason("link_shortener", 15, domain.domain))
        elif domain.age_hours is None or domain.age_hours < t.new_domain_hours:
            # Every domain is new on a new instance: alone this is a whisper, from a new account a hint.
            reasons.append(Reason("new_domain", 20 if new_account else 5, domain.domain))
    if len(domains) >= 3:
        reasons.append(Reason("many_links", 10, f"{len(domains)} domains"))
    if post.mentions >= 4:
        reasons.append(Reason("mention_stuffing", min(60, 15 * (post.mentions - 3)), f"{post.mentions} mentions"))
    if post.hashtags >= 5:
        reasons.append(Reason("hashtag_stuffing", min(50, 10 * (post.hashtags - 4)), f"{post.hashtags} hashtags"))
    if post.reply_to_popular and post.mentions >= 3:
        reasons.append(Reason("popular_reply_mentions", 15, f"{post.mentions} mentions in a reply"))
    reasons.extend(scam_reasons(post.text))
    return reasons


def duplicate_reasons(dup: DuplicateFacts, t: Thresholds) -> list[Reason]:
    """The same or nearly the same text from other accounts (a campaign) or again and again from one."""
    reasons: list[Reason] = []
    if dup.other_accounts >= t.campaign_accounts:
        extra = dup.other_accounts - t.campaign_accounts
        reasons.append(Reason("campaign", min(100, 70 + 5 * extra),
                              f"{dup.other_accounts} other accounts, similarity {dup.best_similarity:.2f}"))
    elif dup.other_accounts > 0:
        reasons.append(Reason("shared_text", 20 * dup.other_accounts, f"{dup.other_accounts} other accounts"))
    if dup.own_repeats >= 5:
        reasons.append(Reason("repetition", 30, f"{dup.own_repeats} earlier copies"))
    elif dup.own_repeats >= 2:
        reasons.append(Reason("repetition", 15, f"{dup.own_repeats} earlier copies"))
    return reasons


def cadence_regularity(post_times: Sequence[float]) -> float | None:
    """Coefficient of variation of the gaps between posts (0: a metronome); None with too few posts."""
    if len(post_times) < 6:
        return None
    gaps = [b - a for a, b in zip(post_times, post_times[1:], strict=False)]
    mean = statistics.fmean(gaps)
    if mean <= 0:
        return 0.0
    return statistics.pstdev(gaps) / mean


def behaviour_reasons(account: AccountFacts, t: Thresholds) -> list[Reason]:
    """Account age and profile, cadence, bursts, follow churn, reply spraying, client and address."""
    reasons: list[Reason] = []
    if account.age_hours < 1:
        reasons.append(Reason("new_account", 20, "under an hour old"))
    elif account.age_hours < t.new_account_hours:
        reasons.append(Reason("new_account", 10, f"{account.age_hours:.0f} hours old"))
    if not account.has_profile and account.age_hours < t.new_account_hours:
        reasons.append(Reason("empty_profile", 5))
    regularity = cadence_regularity(account.post_times)
    if regularity is not None and regularity < 0.1:
        reasons.append(Reason("regular_cadence", 35, f"gap variation {regularity:.2f}"))
    elif regularity is not None and regularity < 0.25:
        reasons.append(Reason("regular_cadence", 15, f"gap variation {regularity:.2f}"))
    if account.posts_last_hour >= 20:
        reasons.append(Reason("burst", 20, f"{account.posts_last_hour} posts in an hour"))
    churn = account.follows_today + account.unfollows_today
    if churn >= 100 or (account.unfollows_today >= 30 and account.unfollows_today * 2 >= account.follows_today):
        reasons.append(Reason("follow_churn", 30, f"{account.follows_today} follows, "
                                                  f"{account.unfollows_today} unfollows today"))
    if account.popular_reply_targets >= 6:
        reasons.append(Reason("reply_spray", 45, f"{account.popular_reply_targets} popular accounts"))
    elif account.popular_reply_targets >= 3:
        reasons.append(Reason("reply_spray", 25, f"{account.popular_reply_targets} popular accounts"))
    if account.new_accounts_on_client >= 10:
        reasons.append(Reason("client_pattern", 20, f"{account.new_accounts_on_client} new accounts on one new app"))
    if account.new_accounts_on_address >= 5:
        reasons.append(Reason("address_pattern", 20, f"{account.new_accounts_on_address} sign-ups from one address"))
    return reasons


def account_score(post_scores: Iterable[int], behaviour: Sequence[Reason]) -> int:
    """An account's score: its worst recent post, or its behaviour alone when that is worse."""
    worst = max(post_scores, default=0)
    return max(0, min(MAX_SCORE, max(worst, sum(r.points for r in behaviour))))
