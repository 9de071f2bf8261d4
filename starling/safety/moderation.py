"""Reports and moderation: people report accounts and posts, the scorer flags them, moderators act.

Every action is taken by an account with the moderator or admin role (checked here, whatever the face
checked before), carries a reason, sends the account a notice (a warning it can appeal, delivered as a
`moderation_warning` notification) and is appended to the audit log. The log is append-only: this
module only inserts into it, and database triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository as accounts_repository
from starling.accounts.models import Account
from starling.errors import Forbidden, NotFound, Unprocessable
from starling.infra import jobs
from starling.notifications import service as notifications
from starling.posts import repository as posts_repository
from starling.posts import service as posts
from starling.posts.models import Status
from starling.safety import moderation_repository as repository
from starling.safety import scoring
from starling.safety.models import AccountScore, AccountWarning, Appeal, ModerationLogEntry, Report, StatusScore

CATEGORIES = ("spam", "legal", "violation", "other")
ACCOUNT_ACTIONS = ("none", "sensitive", "disable", "silence", "suspend")
UNDO_ACTIONS = ("unsensitive", "enable", "unsilence", "unsuspend")
STATUS_ACTIONS = ("delete", "sensitive", "quarantine", "release")
# An approved appeal undoes its warning's action.
REVERSAL = {"sensitive": "unsensitive", "disable": "enable", "silence": "unsilence", "suspend": "unsuspend"}
MAX_COMMENT = 1000
MAX_REASON = 2000
MAX_APPEAL = 2000
MAX_REPORTED_STATUSES = 50
WARNING_TYPE = "moderation_warning"
ALREADY_APPEALED = "Validation failed: this warning has already been appealed"


# ---- who may act -------------------------------------------------------------------------------------

async def moderator(session: AsyncSession, account_id: int | None) -> Account:
    """The acting moderator; Forbidden unless the account holds the moderator or admin role."""
    account = await session.get(Account, account_id) if account_id is not None else None
    if account is None or not account.is_moderator or not account.usable:
        raise Forbidden("This action is not allowed")
    return account


def _reason(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_REASON:
        raise Unprocessable(f"Validation failed: the reason is longer than {MAX_REASON} characters")
    return text


def _log(session: AsyncSession, moderator_id: int | None, action: str, *, account_id: int | None = None,
         status_id: int | None = None, report_id: int | None = None, reason: str = "",
         details: dict | None = None) -> None:
    repository.log(session, ModerationLogEntry(
        id=ids.new_id(), moderator_id=moderator_id, action=action, target_account_id=account_id,
        target_status_id=status_id, report_id=report_id, reason=reason, details=details or {},
        created_at=clock.utcnow_naive()))


async def _warn(session: AsyncSession, account_id: int, action: str, text: str, *,
                status_ids: Sequence[int] = (), report_id: int | None = None) -> AccountWarning:
    """The notice: a warning row the account can appeal, and a notification pointing to it."""
    warning = AccountWarning(id=ids.new_id(), account_id=account_id, action=action, text=text,
                             status_ids=[str(s) for s in status_ids], report_id=report_id,
                             created_at=clock.utcnow_naive())
    session.add(warning)
    await session.flush()
    # From the account itself: a notice never names the moderator.
    await notifications.notify_moderation(session, recipient_id=account_id, from_id=account_id,
                                          key=f"{WARNING_TYPE}:{warning.id}")
    return warning


def warning_id_of(dedupe_key: str) -> int | None:
    """The warning a `moderation_warning` notification points to (its key ends with the warning id)."""
    tail = dedupe_key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


# ---- reports -----------------------------------------------------------------------------------------

async def file_report(session: AsyncSession, *, reporter_id: int, target_account_id: int,
                      status_ids: Sequence[int] = (), comment: str = "", category: str | None = None,
                      rule_ids: Sequence[str] = (), forward: bool = False) -> Report:
    """A person reports an account, optionally pointing at its posts (only ones the reporter can see)."""
    target = await session.get(Account, target_account_id)
    if target is None:
        raise NotFound()
    if target.id == reporter_id:
        raise Unprocessable("Validation failed: you cannot report yourself")
    if len(comment) > MAX_COMMENT:
        raise Unprocessable(f"Validation failed: Comment is too long (maximum is {MAX_COMMENT} characters)")
    wanted = list(dict.fromkeys(status_ids))
    if len(wanted) > MAX_REPORTED_STATUSES:
        raise Unprocessable(f"Validation failed: at most {MAX_REPORTED_STATUSES} posts per report")
    visible = await posts.visible_statuses(session, wanted, reporter_id)
    if len(visible) != len(wanted) or any(s.account_id != target.id for s in visible):
        raise Unprocessable("Validation failed: Statuses could not be found")
    chosen = category or ("violation" if rule_ids else "other")
    if chosen not in CATEGORIES:
        raise Unprocessable(f"Validation failed: Category is not one of {', '.join(CATEGORIES)}")
    now = clock.utcnow_naive()
    report = Report(id=ids.new_id(), account_id=reporter_id, target_account_id=target.id,
                    status_ids=[str(s) for s in wanted], comment=comment, category=chosen,
                    rule_ids=[str(r) for r in rule_ids], forward=bool(forward), source="report", evidence={},
                    created_at=now, updated_at=now)
    session.add(report)
    await session.flush()
    # The staff hear about it in the same transaction (a report about a moderator is not sent to them).
    await notifications.notify_staff_of_report(session, reporter_id=reporter_id, report_id=report.id,
                                               exclude=[target.id])
    return report


async def reports_for_notices(session: AsyncSession, viewer_id: int, report_ids: Sequence[int]
                              ) -> dict[int, tuple[Report, Account]]:
    """The reports `admin.report` notifications point to, each with its target, for a reader who is still
    a moderator or admin (someone who lost the role no longer reads them: empty). Two queries."""
    wanted = set(report_ids)
    if not wanted:
        return {}
    viewer = await session.get(Account, viewer_id)
    if viewer is None or not viewer.is_moderator or not viewer.usable:
        return {}
    reports = await repository.reports_by_ids(session, wanted)
    targets = await accounts_repository.by_ids(session, {r.target_account_id for r in reports.values()})
    return {rid: (r, targets[r.target_account_id]) for rid, r in reports.items() if r.target_account_id in targets}


@dataclass
class ReportView:
    """A report with everything a moderator weighs: both accounts, the posts (quarantined ones too) with
    their spam scores, the target's account score, its earlier warnings and the log about it."""

    report: Report
    reporter: Account | None
    target: Account
    assigned: Account | None
    action_taken_by: Account | None
    statuses: list[Status]
    status_scores: dict[int, StatusScore]
    account_score: AccountScore | None
    warnings: list[AccountWarning] = field(default_factory=list)
    history: list[ModerationLogEntry] = field(default_factory=list)


async def _views(session: AsyncSession, reports: list[Report], *, full: bool) -> list[ReportView]:
    account_ids = {r.target_account_id for r in reports} | {
        a for r in reports for a in (r.account_id, r.assigned_account_id, r.action_taken_by_id) if a is not None}
    accounts = await accounts_repository.by_ids(session, account_ids)
    status_ids = {int(s) for r in reports for s in r.status_ids}
    statuses = await posts_repository.by_ids(session, status_ids)
    scores = await scoring.scores_of_statuses(session, status_ids)
    views = []
    for r in reports:
        target = accounts.get(r.target_account_id)
        if target is None:
            continue
        view = ReportView(
            report=r, reporter=accounts.get(r.account_id) if r.account_id else None, target=target,
            assigned=accounts.get(r.assigned_account_id) if r.assigned_account_id else None,
            action_taken_by=accounts.get(r.action_taken_by_id) if r.action_taken_by_id else None,
            statuses=[statuses[int(s)] for s in r.status_ids if int(s) in statuses],
            status_scores={int(s): scores[int(s)] for s in r.status_ids if int(s) in scores},
            account_score=await scoring.score_of_account(session, target.id) if full else None)
        if full:
            view.warnings = await repository.warnings_of(session, target.id)
            view.history = await repository.log_of(session, target.id)
        views.append(view)
    return views


async def list_reports(session: AsyncSession, moderator_id: int, page: Any, *, resolved: bool | None = False,
                       account_id: int | None = None, target_account_id: int | None = None,
                       source: str | None = None) -> tuple[list[ReportView], list[int]]:
    """The moderation queue (open reports and automatic flags, newest first by default), with the page's
    report ids for the Link header."""
    await moderator(session, moderator_id)
    stmt = repository.reports_query(resolved=resolved, account_id=account_id, target_account_id=target_account_id,
                                    source=source)
    rows = list((await session.scalars(page.apply(stmt, Report.id))).all())
    rows = page.order(rows, key=lambda r: r.id)
    return await _views(session, rows, full=False), [r.id for r in rows]


async def get_report(session: AsyncSession, moderator_id: int, report_id: int) -> ReportView:
    """One report with its evidence."""
    await moderator(session, moderator_id)
    report = await repository.report(session, report_id)
    if report is None:
        raise NotFound()
    views = await _views(session, [report], full=True)
    if not views:
        raise NotFound()
    return views[0]


async def assign_report(session: AsyncSession, moderator_id: int, report_id: int, *, assign: bool) -> ReportView:
    """Assign the report to oneself (or unassign it)."""
    await moderator(session, moderator_id)
    report = await repository.report(session, report_id)
    if report is None:
        raise NotFound()
    report.assigned_account_id = moderator_id if assign else None
    report.updated_at = clock.utcnow_naive()
    _log(session, moderator_id, "report.assign" if assign else "report.unassign", account_id=report.target_account_id,
         report_id=report.id)
    return await get_report(session, moderator_id, report_id)


async def resolve_report(session: AsyncSession, moderator_id: int, report_id: int, *, reopen: bool = False,
                         reason: str = "") -> ReportView:
    """Mark a report handled (or reopen it)."""
    await moderator(session, moderator_id)
    report = await repository.report(session, report_id)
    if report is None:
        raise NotFound()
    now = clock.utcnow_naive()
    report.action_taken_at, report.action_taken_by_id = (None, None) if reopen else (now, moderator_id)
    report.updated_at = now
    _log(session, moderator_id, "report.reopen" if reopen else "report.resolve",
         account_id=report.target_account_id, report_id=report.id, reason=_reason(reason))
    return await get_report(session, moderator_id, report_id)


# ---- acting on accounts ------------------------------------------------------------------------------

async def act_on_account(session: AsyncSession, moderator_id: int, account_id: int, action: str, *,
                         reason: str = "", report_id: int | None = None, status_ids: Sequence[int] = (),
                         send_notice: bool = True) -> Account:
    """Mastodon's account actions (none, sensitive, disable, silence = limit, suspend) and their undoing
    (unsensitive, enable, unsilence, unsuspend). With `report_id`, that report is resolved."""
    mod = await moderator(session, moderator_id)
    if action not in ACCOUNT_ACTIONS + UNDO_ACTIONS:
        raise Unprocessable(f"Validation failed: type must be one of {', '.join(ACCOUNT_ACTIONS)}")
    target = await session.get(Account, account_id)
    if target is None:
        raise NotFound()
    if target.id == mod.id and action != "none":
        raise Unprocessable("Validation failed: you cannot act on your own account")
    if target.is_admin and not mod.is_admin and action in ACCOUNT_ACTIONS[1:]:
        raise Forbidden("This action is not allowed")
    text = _reason(reason)
    now = clock.utcnow_naive()
    if action == "sensitive":
        target.sensitized_at = now
    elif action == "disable":
        target.disabled_at = now
    elif action == "silence":
        target.silenced_at = now
    elif action == "suspend":
        target.suspended_at = now
        await repository.revoke_tokens(session, target.id, now)
    elif action == "unsensitive":
        target.sensitized_at = None
    elif action == "enable":
        target.disabled_at = None
    elif action == "unsilence":
        target.silenced_at = None
    elif action == "unsuspend":
        target.suspended_at = None
    if action in UNDO_ACTIONS:
        await scoring.clear_account(session, target.id)
    report = None
    if report_id is not None:
        report = await repository.report(session, report_id)
        if report is None or report.target_account_id != target.id:
            raise NotFound()
        await repository.resolve_reports(session, [report.id], mod.id, now)
    _log(session, mod.id, f"account.{action}", account_id=target.id, report_id=report_id, reason=text,
         details={"status_ids": [str(s) for s in status_ids]} if status_ids else None)
    if send_notice and action in ACCOUNT_ACTIONS and (action != "none" or text):
        await _warn(session, target.id, action, text, status_ids=status_ids, report_id=report_id)
    await session.flush()
    return target


async def approve_account(session: AsyncSession, moderator_id: int, account_id: int, *, approve: bool) -> Account:
    """Approve a pending sign-up, or reject it (the account is deleted, as on Mastodon)."""
    mod = await moderator(session, moderator_id)
    target = await session.get(Account, account_id)
    if target is None:
        raise NotFound()
    if approve:
        target.approved = True
    elif target.approved:
        raise Forbidden("This action is not allowed")
    _log(session, mod.id, "account.approve" if approve else "account.reject", account_id=target.id,
         details={"username": target.username})
    if not approve:
        await session.delete(target)
    await session.flush()
    return target


# ---- acting on posts ---------------------------------------------------------------------------------

async def act_on_status(session: AsyncSession, moderator_id: int, status_id: int, action: str, *,
                        reason: str = "", report_id: int | None = None, send_notice: bool = True) -> None:
    """Delete a post, mark it sensitive, quarantine it, or release it from quarantine."""
    mod = await moderator(session, moderator_id)
    if action not in STATUS_ACTIONS:
        raise Unprocessable(f"Validation failed: type must be one of {', '.join(STATUS_ACTIONS)}")
    status = await posts_repository.by_id(session, status_id)
    if status is None:
        raise NotFound()
    text = _reason(reason)
    author_id = status.account_id
    now = clock.utcnow_naive()
    if action == "delete":
        await posts.delete_status(session, status)
    elif action == "sensitive":
        status.sensitive, status.edited_at = True, now  # edited_at also renews cached renderings
    elif action == "quarantine":
        await scoring.quarantine_statuses(session, [status_id])
    elif action == "release":
        await scoring.release_statuses(session, [status_id])
        # It was held back before fan-out: send it out now (fan-out, search and notices are idempotent).
        jobs.enqueue(session, "status.created", {"status_id": status_id})
    if report_id is not None:
        report = await repository.report(session, report_id)
        if report is None:
            raise NotFound()
        await repository.resolve_reports(session, [report.id], mod.id, now)
    _log(session, mod.id, f"status.{action}", account_id=author_id, status_id=status_id, report_id=report_id,
         reason=text)
    if send_notice and action in ("delete", "sensitive"):
        kind = "delete_statuses" if action == "delete" else "mark_statuses_as_sensitive"  # Mastodon's names
        await _warn(session, author_id, kind, text, status_ids=[status_id], report_id=report_id)
    await session.flush()


# ---- notices and appeals -----------------------------------------------------------------------------

async def warnings_for(session: AsyncSession, account_id: int) -> list[tuple[AccountWarning, Appeal | None]]:
    """The account's own warnings, newest first, each with its appeal if it filed one."""
    warnings = await repository.warnings_of(session, account_id)
    appeals = await repository.appeals_by_warning(session, [w.id for w in warnings])
    return [(w, appeals.get(w.id)) for w in warnings]


async def warnings_for_ids(session: AsyncSession, warning_ids: Sequence[int]) -> dict[int, AccountWarning]:
    """Warnings by id (for rendering notifications)."""
    return await repository.warnings_by_ids(session, warning_ids)


async def file_appeal(session: AsyncSession, account_id: int, warning_id: int, text: str) -> Appeal:
    """The account appeals one of its warnings (once)."""
    warning = await repository.warning(session, warning_id)
    if warning is None or warning.account_id != account_id:
        raise NotFound()
    text = (text or "").strip()
    if not text:
        raise Unprocessable("Validation failed: Text can't be blank")
    if len(text) > MAX_APPEAL:
        raise Unprocessable(f"Validation failed: Text is too long (maximum is {MAX_APPEAL} characters)")
    if await repository.appeal_of_warning(session, warning_id) is not None:
        raise Unprocessable(ALREADY_APPEALED)
    appeal = Appeal(id=ids.new_id(), account_id=account_id, warning_id=warning_id, text=text,
                    created_at=clock.utcnow_naive())
    try:
        async with session.begin_nested():  # two appeals sent at once: the unique warning_id keeps one
            session.add(appeal)
    except IntegrityError:
        raise Unprocessable(ALREADY_APPEALED) from None
    return appeal


@dataclass(frozen=True)
class Suspension:
    """What a suspended account is shown: since when, the notice that said why (None when the suspension
    came without one) and the appeal it filed against that notice."""

    suspended_at: datetime
    warning: AccountWarning | None
    appeal: Appeal | None


async def suspension_of(session: AsyncSession, account_id: int) -> Suspension | None:
    """The account's suspension with its latest suspension notice and appeal; None when not suspended."""
    account = await session.get(Account, account_id)
    if account is None or account.suspended_at is None:
        return None
    warning = await repository.latest_warning(session, account_id, "suspend")
    appeal = await repository.appeal_of_warning(session, warning.id) if warning is not None else None
    return Suspension(account.suspended_at, warning, appeal)


async def appeal_suspension(session: AsyncSession, account_id: int, text: str) -> Appeal:
    """A suspended account appeals its suspension (once), from the only page it can still open."""
    suspension = await suspension_of(session, account_id)
    if suspension is None:
        raise Unprocessable("Validation failed: this account is not suspended")
    if suspension.warning is None:
        raise Unprocessable("Validation failed: there is no suspension notice to appeal")
    return await file_appeal(session, account_id, suspension.warning.id, text)


async def send_notice(session: AsyncSession, account_id: int, action: str, text: str = "") -> AccountWarning:
    """The notice for an action another capability took for a moderator (the admin accounts page's
    suspend), so the account learns of it and can appeal it like any other."""
    return await _warn(session, account_id, action, _reason(text))


async def open_reports_count(session: AsyncSession, moderator_id: int, limit: int = 1000) -> dict[str, int]:
    """How many reports wait in the queue, people's ("report") and the scorer's flags ("auto"), counting at
    most `limit` in all. Flags notify nobody (a spam wave would bury the staff in notices), so the admin
    overview shows this instead."""
    await moderator(session, moderator_id)
    counts = await repository.count_open_reports(session, limit)
    return {"report": counts.get("report", 0), "auto": counts.get("auto", 0)}


async def pending_appeals_count(session: AsyncSession, moderator_id: int, limit: int = 100) -> int:
    """How many appeals wait for a decision (at most `limit`), for the moderation queue's banner."""
    await moderator(session, moderator_id)
    return await repository.count_pending_appeals(session, limit)


async def appellants(session: AsyncSession, moderator_id: int, account_ids: Sequence[int]) -> dict[int, Account]:
    """The accounts behind a page of appeals (one query)."""
    await moderator(session, moderator_id)
    return await accounts_repository.by_ids(session, set(account_ids))


async def list_appeals(session: AsyncSession, moderator_id: int, page: Any, *,
                       pending: bool = True) -> list[tuple[Appeal, AccountWarning | None]]:
    await moderator(session, moderator_id)
    rows = list((await session.scalars(page.apply(repository.appeals_query(pending=pending), Appeal.id))).all())
    rows = page.order(rows, key=lambda a: a.id)
    warnings = await repository.warnings_by_ids(session, [a.warning_id for a in rows])
    return [(a, warnings.get(a.warning_id)) for a in rows]


async def decide_appeal(session: AsyncSession, moderator_id: int, appeal_id: int, *, approve: bool,
                        reason: str = "") -> Appeal:
    """Approve an appeal (its warning's action is undone) or reject it."""
    mod = await moderator(session, moderator_id)
    appeal = await repository.appeal(session, appeal_id)
    if appeal is None:
        raise NotFound()
    if appeal.decision is not None:
        raise Unprocessable("Validation failed: this appeal has already been decided")
    warning = await repository.warning(session, appeal.warning_id)
    appeal.decision = "approved" if approve else "rejected"
    appeal.decided_by_id, appeal.decided_at = mod.id, clock.utcnow_naive()
    _log(session, mod.id, f"appeal.{appeal.decision}", account_id=appeal.account_id, reason=_reason(reason),
         details={"appeal_id": str(appeal.id), "warning_id": str(appeal.warning_id)})
    if approve and warning is not None:
        if warning.action in REVERSAL:
            await act_on_account(session, mod.id, appeal.account_id, REVERSAL[warning.action],
                                 reason=f"appeal {appeal.id} approved", send_notice=False)
        elif warning.action == "mark_statuses_as_sensitive":
            for status in await posts.visible_statuses(session, [int(s) for s in warning.status_ids],
                                                       appeal.account_id):
                status.sensitive = False
                status.edited_at = clock.utcnow_naive()
    await session.flush()
    return appeal


# ---- the audit log -----------------------------------------------------------------------------------

async def audit_log(session: AsyncSession, moderator_id: int, page: Any, *, target_account_id: int | None = None
                    ) -> tuple[list[ModerationLogEntry], dict[int, Account]]:
    """The audit log, newest first, with the accounts it names."""
    await moderator(session, moderator_id)
    stmt = repository.log_query(target_account_id=target_account_id)
    rows = list((await session.scalars(page.apply(stmt, ModerationLogEntry.id))).all())
    rows = page.order(rows, key=lambda e: e.id)
    accounts = await accounts_repository.by_ids(
        session, {a for e in rows for a in (e.moderator_id, e.target_account_id) if a is not None})
    return rows, accounts


# ---- the admin's view of accounts --------------------------------------------------------------------

async def list_accounts(session: AsyncSession, moderator_id: int, page: Any, **filters: Any) -> list[Account]:
    """Accounts for the admin API, filtered as Mastodon's v1 admin list is (plus `flagged`)."""
    await moderator(session, moderator_id)
    rows = list((await session.scalars(page.apply(repository.accounts_query(**filters), Account.id))).all())
    return page.order(rows, key=lambda a: a.id)


async def get_account(session: AsyncSession, moderator_id: int, account_id: int) -> Account:
    await moderator(session, moderator_id)
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound()
    return account


async def account_scores(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, AccountScore]:
    """Stored spam scores of accounts (for the admin entities)."""
    from starling.safety import scoring_repository

    return await scoring_repository.account_scores(session, account_ids)


async def target_of(session: AsyncSession, report: Report) -> Account:
    """The reported account."""
    target = await session.get(Account, report.target_account_id)
    if target is None:
        raise NotFound()
    return target


async def log_link_domain(session: AsyncSession, moderator_id: int, domain: str, blocked: bool) -> None:
    """Record a link-domain block or unblock in the audit log."""
    _log(session, moderator_id, "link_domain.block" if blocked else "link_domain.unblock", details={"domain": domain})


async def reportable_account(session: AsyncSession, account_id: int) -> Account:
    """The account a person is about to report; NotFound when unknown or already suspended."""
    account = await session.get(Account, account_id)
    if account is None or account.suspended_at is not None:
        raise NotFound()
    return account


def record(session: AsyncSession, moderator_id: int, action: str, *, account_id: int | None = None,
           reason: str = "") -> None:
    """Append an action another capability took for a moderator (the admin pages' suspend, approve,
    password reset...) to the audit log."""
    _log(session, moderator_id, action, account_id=account_id, reason=reason)
