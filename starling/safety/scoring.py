"""Spam and bot scoring: every post and account gets a score with its reasons (rules in safety.policy).

Two stages, so a post is quarantined before anyone else sees it:
- at creation, inside the posting transaction (`screen_new_status`): content (links, stuffing, scam
  shapes), the account's age, and near-duplicates through the MinHash LSH index in SQL. A campaign
  found here also quarantines the earlier copies it matched.
- in the `status.created` job, before fan-out (`screen_before_fan_out`): behaviour (cadence, bursts,
  follow churn, replies sprayed at popular accounts, new clients shared by new accounts). A post found
  bad here is not fanned out, indexed or announced.
A quarantined post is visible to its author only (posts.policy); its account joins the moderation
queue through an automatic report. `is_invalid_traffic` answers for billing and payouts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts.models import Account
from starling.config import Settings
from starling.posts.models import Status
from starling.safety import fingerprint, policy
from starling.safety import scoring_repository as repository
from starling.safety.models import AccountScore, ModerationLogEntry, Report, StatusScore

CADENCE_POSTS = 12
RELEASED = "released"  # a moderator's verdict on a post: the scorer leaves it alone
MAX_REPORT_STATUSES = 50
_LINK = re.compile(r"https?://([^/\s?#:]+)", re.IGNORECASE)
_TAG = re.compile(r"(?:^|[^\w/])#(\w+)")


def thresholds(settings: Settings) -> policy.Thresholds:
    return policy.Thresholds(new_account_hours=settings.spam_new_account_hours,
                             new_domain_hours=settings.spam_new_domain_hours,
                             campaign_accounts=settings.spam_campaign_accounts)


def link_domains(text: str) -> list[str]:
    """The hosts linked from a post's source text, lower-cased, without `www.`, in order, once each."""
    hosts = (m.group(1).lower().rstrip(".") for m in _LINK.finditer(text))
    return list(dict.fromkeys(h[4:] if h.startswith("www.") else h for h in hosts))


def _hours(since: datetime, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds() / 3600)


def _configured_blocks(settings: Settings) -> set[str]:
    return {d.strip().lower() for d in settings.spam_blocked_domains.split(",") if d.strip()}


def _blocked(domain: str, blocked: set[str]) -> bool:
    parts = domain.split(".")
    return any(".".join(parts[i:]) in blocked for i in range(len(parts) - 1))


async def _domain_facts(session: AsyncSession, settings: Settings, domains: list[str],
                        now: datetime) -> list[policy.DomainFacts]:
    if not domains:
        return []
    candidates = {".".join(d.split(".")[i:]) for d in domains for i in range(len(d.split(".")) - 1)}
    known = await repository.link_domains(session, candidates | set(domains))
    blocked = _configured_blocks(settings) | {d for d, row in known.items() if row.blocked_at is not None}
    facts = [policy.DomainFacts(d, blocked=_blocked(d, blocked),
                                age_hours=_hours(known[d].first_seen_at, now) if d in known else None)
             for d in domains]
    await repository.note_domains(session, [d for d in domains if d not in known], now)
    return facts


async def _flag(session: AsyncSession, account_id: int, status_ids: list[int], score: int,
                reasons: list[dict], now: datetime) -> None:
    """Put the account in the moderation queue: one open automatic report that collects the evidence."""
    account = await repository.account_score(session, account_id)
    if account is None:
        account = AccountScore(account_id=account_id, score=score, reasons=reasons, updated_at=now)
        session.add(account)
    account.flagged_at = account.flagged_at or now
    report = await repository.open_auto_report(session, account_id)
    if report is None:
        report = Report(id=ids.new_id(), account_id=None, target_account_id=account_id, status_ids=[],
                        comment="Flagged by the spam scorer", category="spam", rule_ids=[], forward=False,
                        source="auto", evidence={}, created_at=now, updated_at=now)
        session.add(report)
    report.status_ids = list(dict.fromkeys([*report.status_ids, *(str(s) for s in status_ids)]))[
        -MAX_REPORT_STATUSES:]
    report.evidence = {"score": max(score, int(report.evidence.get("score", 0))), "reasons": reasons}
    report.updated_at = now
    repository.log(session, ModerationLogEntry(
        id=ids.new_id(), moderator_id=None, action="auto.quarantine", target_account_id=account_id,
        target_status_id=status_ids[0] if status_ids else None, report_id=report.id,
        reason=", ".join(sorted({r["code"] for r in reasons})), details={"score": score}, created_at=now))


async def _near_duplicates(session: AsyncSession, settings: Settings, status: Status,
                           now: datetime) -> tuple[policy.DuplicateFacts, list[tuple[int, int]]]:
    """Near-duplicates of `status` from the LSH index, and (status_id, account_id) of those by others.
    Records the post's own fingerprint so later posts find it."""
    sig = fingerprint.signature(status.text)
    if sig is None:
        return policy.DuplicateFacts(), []
    keys = fingerprint.band_keys(sig)
    since = now - timedelta(hours=settings.spam_duplicate_window_hours)
    others: list[tuple[int, int]] = []
    own = 0
    best = 0.0
    for status_id, account_id, raw in await repository.band_candidates(session, keys, since=since,
                                                                       exclude_status=status.id):
        similarity = fingerprint.similarity(sig, fingerprint.from_bytes(raw))
        if similarity < settings.spam_duplicate_similarity:
            continue
        best = max(best, similarity)
        if account_id == status.account_id:
            own += 1
        else:
            others.append((status_id, account_id))
    await repository.add_fingerprint(session, status_id=status.id, account_id=status.account_id,
                                     signature=fingerprint.to_bytes(sig), keys=keys, now=now)
    if status.id % 256 == 0:  # now and then, not on every post
        await repository.prune_fingerprints(session, since)
    facts = policy.DuplicateFacts(other_accounts=len({a for _, a in others}), own_repeats=own,
                                  best_similarity=best)
    return facts, others


async def _quarantine_campaign(session: AsyncSession, settings: Settings, matched: list[tuple[int, int]],
                               reason: policy.Reason, now: datetime) -> None:
    """A campaign was found: the earlier copies it matched are part of it too."""
    scores = await repository.status_scores(session, [s for s, _ in matched])
    caught: dict[int, list[int]] = {}
    for status_id, account_id in matched:
        row = scores.get(status_id)
        if row is None or row.quarantined:
            continue
        row.reasons = [*row.reasons, {**reason.as_dict(), "detail": f"{reason.detail} (found later)"}]
        row.score = max(row.score, policy.post_score(row.reasons))
        row.updated_at = now
        if row.score >= settings.spam_quarantine_score:
            caught.setdefault(account_id, []).append(status_id)
    if not caught:
        return
    await repository.set_quarantined(session, [s for ids_ in caught.values() for s in ids_], True)
    for account_id, status_ids in caught.items():
        await _flag(session, account_id, status_ids, settings.spam_quarantine_score, [reason.as_dict()], now)


async def _screen_text(session: AsyncSession, settings: Settings, status: Status, author: Account, *,
                       mentions: int, hashtags: int, now: datetime) -> tuple[policy.Verdict, list[policy.Reason],
                                                                            list[tuple[int, int]]]:
    """Content, near-duplicate and account-age reasons for `status`'s current text."""
    t = thresholds(settings)
    age = _hours(author.created_at, now)
    reply_to_popular = (status.in_reply_to_account_id is not None
                        and status.in_reply_to_account_id != author.id
                        and await repository.followers_count(session, status.in_reply_to_account_id)
                        >= settings.spam_popular_followers)
    post = policy.PostFacts(text=f"{status.spoiler_text or ''}\n{status.text}".strip(), mentions=mentions,
                            hashtags=hashtags, domains=tuple(link_domains(status.text)),
                            reply_to_popular=reply_to_popular)
    verdict = policy.Verdict()
    verdict.add(policy.content_reasons(post, await _domain_facts(session, settings, list(post.domains), now),
                                       t, age))
    duplicates, matched = await _near_duplicates(session, settings, status, now)
    duplicate_reasons = policy.duplicate_reasons(duplicates, t)
    verdict.add(duplicate_reasons)
    has_profile = bool(author.display_name or author.note or author.avatar_key)
    verdict.add(policy.behaviour_reasons(policy.AccountFacts(age_hours=age, has_profile=has_profile), t))
    return verdict, duplicate_reasons, matched


async def _after_text_verdict(session: AsyncSession, settings: Settings, status: Status, author: Account,
                              verdict: policy.Verdict, duplicate_reasons: list[policy.Reason],
                              matched: list[tuple[int, int]], now: datetime) -> bool:
    """Quarantine and flag at the threshold; a campaign takes its earlier copies with it."""
    quarantined = verdict.score >= settings.spam_quarantine_score
    if quarantined:
        status.quarantined = True
        await _flag(session, author.id, [status.id], verdict.score, verdict.as_list(), now)
    campaign = next((r for r in duplicate_reasons if r.code == "campaign"), None)
    if campaign is not None:
        await _quarantine_campaign(session, settings, matched, campaign, now)
    return quarantined


def _behaviour_could_tip(settings: Settings, verdict: policy.Verdict) -> bool:
    """Whether the account's behaviour could still take this post to the threshold: its text shows
    something, but not enough on its own."""
    evidence = sum(r.points for r in verdict.reasons if r.code not in policy.BEHAVIOUR_CODES)
    return 0 < evidence < settings.spam_quarantine_score <= evidence + policy.BEHAVIOUR_CAP_PER_POST


async def screen_new_status(session: AsyncSession, settings: Settings, status: Status, author: Account, *,
                            mentions: int, hashtags: int) -> None:
    """The synchronous stage, called by posts while creating `status` (flushed, not yet committed):
    score content, account age and near-duplicates; quarantine at the threshold."""
    if not settings.spam_scoring_enabled or status.reblog_of_id is not None:
        return
    now = clock.utcnow_naive()
    verdict, duplicate_reasons, matched = await _screen_text(session, settings, status, author, mentions=mentions,
                                                             hashtags=hashtags, now=now)
    if _behaviour_could_tip(settings, verdict):
        # Cheap enough to ask now, and it may decide: then nobody sees the post even before its job runs.
        verdict = policy.Verdict([r for r in verdict.reasons if r.code not in policy.BEHAVIOUR_CODES])
        verdict.add(policy.behaviour_reasons(await _behaviour(session, settings, status, author, now),
                                             thresholds(settings)))
    session.add(StatusScore(status_id=status.id, account_id=author.id, score=verdict.score,
                            reasons=verdict.as_list(), quarantined=verdict.score >= settings.spam_quarantine_score,
                            created_at=now, updated_at=now))
    await _after_text_verdict(session, settings, status, author, verdict, duplicate_reasons, matched, now)


async def screen_edited_status(session: AsyncSession, settings: Settings, status: Status, author: Account, *,
                               mentions: int, hashtags: int) -> None:
    """An edit is scored like a new post (editing harmless text into spam must not slip through); a post
    a moderator released stays released, and an edit never lifts a quarantine."""
    if not settings.spam_scoring_enabled or status.reblog_of_id is not None:
        return
    row = await repository.status_score(session, status.id)
    if row is not None and any(r["code"] == RELEASED for r in row.reasons):
        return
    now = clock.utcnow_naive()
    await repository.forget_fingerprint(session, status.id)
    verdict, duplicate_reasons, matched = await _screen_text(session, settings, status, author, mentions=mentions,
                                                             hashtags=hashtags, now=now)
    if row is None:
        row = StatusScore(status_id=status.id, account_id=author.id, created_at=now)
        session.add(row)
    row.score, row.reasons, row.updated_at = verdict.score, verdict.as_list(), now
    if await _after_text_verdict(session, settings, status, author, verdict, duplicate_reasons, matched, now):
        row.quarantined = True


async def _behaviour(session: AsyncSession, settings: Settings, status: Status, author: Account,
                     now: datetime) -> policy.AccountFacts:
    day_ago = ids.id_floor(clock.now() - timedelta(days=1))
    times = await repository.recent_post_times(session, author.id, CADENCE_POSTS)
    hour_ago = now - timedelta(hours=1)
    counts = await repository.activity(session, author.id, now.date())
    clients = 0
    if status.application_id is not None:
        clients = await repository.new_accounts_on_application(
            session, status.application_id, since_id=day_ago, app_since=now - timedelta(days=2),
            born_after=now - timedelta(hours=settings.spam_new_account_hours))
    return policy.AccountFacts(
        age_hours=_hours(author.created_at, now),
        has_profile=bool(author.display_name or author.note or author.avatar_key),
        post_times=tuple(t.timestamp() for t in times),
        posts_last_hour=sum(1 for t in times if t >= hour_ago),
        follows_today=counts.get("follow", 0), unfollows_today=counts.get("unfollow", 0),
        popular_reply_targets=await repository.popular_reply_targets(
            session, author.id, day_ago, settings.spam_popular_followers),
        new_accounts_on_client=clients,
        new_accounts_on_address=await repository.sign_ups_from_same_address(session, author.id,
                                                                           now - timedelta(days=1)))


async def screen_before_fan_out(session: AsyncSession, settings: Settings, status: Status) -> bool:
    """The job stage, run before a new post is fanned out: add behaviour to its score, quarantine at the
    threshold, update the account's score. True when the post is quarantined (and must not go out)."""
    if status.reblog_of_id is not None:
        return False
    row = await repository.status_score(session, status.id)
    if not settings.spam_scoring_enabled or row is None or any(r["code"] == RELEASED for r in row.reasons):
        return bool(status.quarantined)
    author = await session.get(Account, status.account_id)
    if author is None:
        return True
    now = clock.utcnow_naive()
    behaviour = policy.behaviour_reasons(await _behaviour(session, settings, status, author, now),
                                         thresholds(settings))
    reasons = [r for r in row.reasons if r["code"] not in policy.BEHAVIOUR_CODES] + [r.as_dict() for r in behaviour]
    row.reasons, row.updated_at = reasons, now
    row.score = policy.post_score(reasons)
    newly = row.score >= settings.spam_quarantine_score and not status.quarantined and not row.quarantined
    if newly:
        await repository.set_quarantined(session, [status.id], True)
        await _flag(session, author.id, [status.id], row.score, reasons, now)
    await _update_account(session, settings, author.id, behaviour, now)
    return bool(status.quarantined or row.quarantined or newly)


async def _update_account(session: AsyncSession, settings: Settings, account_id: int,
                          behaviour: list[policy.Reason], now: datetime) -> None:
    week_ago = ids.id_floor(clock.now() - timedelta(days=7))
    scores = await repository.recent_post_scores(session, account_id, week_ago)
    score = policy.account_score(scores, behaviour)
    account = await repository.account_score(session, account_id)
    if account is None:
        account = AccountScore(account_id=account_id, updated_at=now)
        session.add(account)
    account.score, account.reasons, account.updated_at = score, [r.as_dict() for r in behaviour], now
    if score >= settings.spam_invalid_traffic_score and account.flagged_at is None:
        await _flag(session, account_id, [], score, account.reasons, now)


async def count_follow_activity(session: AsyncSession, account_id: int, kind: str) -> None:
    """Count a follow or an unfollow (churn is invisible in the graph once the row is gone)."""
    await repository.count_activity(session, account_id, clock.utcnow_naive().date(), kind)


# ---- answers for other capabilities ----------------------------------------------------------------

async def invalid_traffic_among(session: AsyncSession, account_ids: Iterable[int], *,
                                settings: Settings | None = None) -> set[int]:
    """Which of `account_ids` are invalid traffic: suspended or disabled accounts, and accounts the
    scorer flagged or scored at Settings.spam_invalid_traffic_score that no moderator has cleared since.
    Two queries for any number of accounts."""
    settings = settings or session.info["settings"]
    wanted = set(account_ids)
    if not wanted:
        return set()
    from starling.accounts import repository as accounts_repository

    accounts = await accounts_repository.by_ids(session, wanted)
    scores = await repository.account_scores(session, wanted)
    invalid = set()
    for account_id in wanted:
        account = accounts.get(account_id)
        if account is None or account.suspended_at is not None or account.disabled_at is not None:
            invalid.add(account_id)
            continue
        score = scores.get(account_id)
        if score is None:
            continue
        cleared = score.cleared_at is not None and (score.flagged_at is None or score.cleared_at >= score.flagged_at)
        if not cleared and (score.flagged_at is not None or score.score >= settings.spam_invalid_traffic_score):
            invalid.add(account_id)
    return invalid


async def is_invalid_traffic(session: AsyncSession, account_id: int, *, settings: Settings | None = None) -> bool:
    """Whether `account_id`'s activity (impressions, clicks, follows) must be left out of billing and
    payouts: see `invalid_traffic_among`."""
    return account_id in await invalid_traffic_among(session, [account_id], settings=settings)


async def scores_of_statuses(session: AsyncSession, status_ids: Iterable[int]) -> dict[int, StatusScore]:
    """Stored scores and reasons of posts (the moderation queue's evidence)."""
    return await repository.status_scores(session, status_ids)


async def score_of_account(session: AsyncSession, account_id: int) -> AccountScore | None:
    """An account's stored score and reasons, or None if it was never scored."""
    return await repository.account_score(session, account_id)


async def clear_account(session: AsyncSession, account_id: int) -> None:
    """A moderator judged the account a person: it is valid traffic again (until flagged anew)."""
    now = clock.utcnow_naive()
    score = await repository.account_score(session, account_id)
    if score is None:
        score = AccountScore(account_id=account_id, score=0, reasons=[], updated_at=now)
        session.add(score)
    score.cleared_at, score.flagged_at = now, None


async def release_statuses(session: AsyncSession, status_ids: Iterable[int]) -> None:
    """Lift the quarantine of posts (a moderator's decision, which the scorer respects from then on)."""
    wanted = set(status_ids)
    await repository.set_quarantined(session, wanted, False)
    for row in (await repository.status_scores(session, wanted)).values():
        row.reasons = [*row.reasons, {"code": RELEASED, "points": 0, "detail": "released by a moderator"}]


async def quarantine_statuses(session: AsyncSession, status_ids: Iterable[int]) -> None:
    """Quarantine posts by a moderator's decision."""
    await repository.set_quarantined(session, status_ids, True)


async def block_link_domain(session: AsyncSession, domain: str, *, blocked: bool = True, note: str = "") -> None:
    """Block (or unblock) a link domain: posts linking to it, or to its subdomains, score as spam."""
    await repository.set_domain_blocked(session, domain.strip().lower(),
                                        clock.utcnow_naive() if blocked else None, note)
