"""Moderation entities: Mastodon's Admin::Account, Admin::Report and AccountWarning (with its Appeal),
and Starling's audit log entry."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts.models import Account
from starling.api.entities.account import account_entity
from starling.api.entities.status import status_entities
from starling.context import AppContext
from starling.safety.models import AccountScore, AccountWarning, Appeal, ModerationLogEntry, Report
from starling.safety.moderation import ReportView

ROLES = {"user": ("-99", ""), "moderator": ("2", "Moderator"), "admin": ("3", "Admin")}


def _role(account: Account) -> dict:
    role_id, name = ROLES.get(account.role, ROLES["user"])
    return {"id": role_id, "name": name, "color": "", "permissions": "1" if account.is_admin else "0",
            "highlighted": account.role != "user"}


def report_entity(ctx: AppContext, report: Report, target: Account) -> dict:
    """Mastodon's Report entity: what the reporter sees, and what an `admin.report` notification carries."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": clock.iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": bool(report.forward),
        "created_at": clock.iso(report.created_at),
        "status_ids": list(report.status_ids) or None,
        "rule_ids": list(report.rule_ids) or None,
        "target_account": account_entity(ctx, target),
    }


def spam_entity(score: AccountScore | None) -> dict | None:
    if score is None:
        return None
    return {"score": score.score, "reasons": score.reasons, "flagged_at": clock.iso(score.flagged_at),
            "cleared_at": clock.iso(score.cleared_at)}


def admin_account_entity(ctx: AppContext, account: Account, score: AccountScore | None = None) -> dict:
    """Mastodon's Admin::Account (local accounts only), plus `spam`: the scorer's score and reasons."""
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": None,
        "created_at": clock.iso(account.created_at),
        "email": account.email or "",
        "ip": None,
        "ips": [],
        "locale": account.locale,
        "invite_request": account.registration_reason or None,
        "role": _role(account),
        "confirmed": account.confirmed_at is not None,
        "approved": bool(account.approved),
        "disabled": account.disabled_at is not None,
        "silenced": account.silenced_at is not None,
        "suspended": account.suspended_at is not None,
        "sensitized": account.sensitized_at is not None,
        "account": account_entity(ctx, account),
        "created_by_application_id": None,
        "invited_by_account_id": None,
        "spam": spam_entity(score),
    }


async def admin_report_entities(session: AsyncSession, ctx: AppContext, views: list[ReportView],
                                viewer_id: int) -> list[dict]:
    """Mastodon's Admin::Report for each view; an automatic flag has no reporter (`account` null) and
    carries the scorer's evidence in `evidence` and each status's score in `status_scores`."""
    statuses = list({s.id: s for v in views for s in v.statuses}.values())
    rendered = {e["id"]: e for e in await status_entities(session, ctx, statuses, viewer_id)}
    out = []
    for view in views:
        r = view.report
        out.append({
            "id": str(r.id),
            "action_taken": r.action_taken_at is not None,
            "action_taken_at": clock.iso(r.action_taken_at),
            "category": r.category,
            "comment": r.comment,
            "forwarded": bool(r.forward),
            "created_at": clock.iso(r.created_at),
            "updated_at": clock.iso(r.updated_at),
            "account": admin_account_entity(ctx, view.reporter) if view.reporter else None,
            "target_account": admin_account_entity(ctx, view.target, view.account_score),
            "assigned_account": admin_account_entity(ctx, view.assigned) if view.assigned else None,
            "action_taken_by_account": (admin_account_entity(ctx, view.action_taken_by)
                                        if view.action_taken_by else None),
            "statuses": [rendered[str(s.id)] for s in view.statuses if str(s.id) in rendered],
            "rules": [{"id": str(rule), "text": ""} for rule in r.rule_ids],
            "source": r.source,
            "evidence": r.evidence,
            "status_scores": {str(k): {"score": v.score, "reasons": v.reasons, "quarantined": v.quarantined}
                              for k, v in view.status_scores.items()},
        })
    return out


def appeal_entity(appeal: Appeal | None) -> dict | None:
    if appeal is None:
        return None
    state = appeal.decision or "pending"
    return {"id": str(appeal.id), "text": appeal.text, "state": state, "created_at": clock.iso(appeal.created_at)}


def account_warning_entity(ctx: AppContext, warning: AccountWarning, account: Account,
                           appeal: Appeal | None = None) -> dict:
    """Mastodon's AccountWarning."""
    return {
        "id": str(warning.id),
        "action": warning.action,
        "text": warning.text,
        "status_ids": list(warning.status_ids),
        "target_account": account_entity(ctx, account),
        "appeal": appeal_entity(appeal),
        "created_at": clock.iso(warning.created_at),
    }


def log_entry_entity(entry: ModerationLogEntry, accounts: dict[int, Account]) -> dict:
    moderator = accounts.get(entry.moderator_id) if entry.moderator_id is not None else None
    target = accounts.get(entry.target_account_id) if entry.target_account_id is not None else None
    return {
        "id": str(entry.id),
        "action": entry.action,
        "moderator": {"id": str(moderator.id), "username": moderator.username} if moderator else None,
        "target_account": ({"id": str(target.id), "username": target.username} if target
                           else (str(entry.target_account_id) if entry.target_account_id else None)),
        "target_status_id": str(entry.target_status_id) if entry.target_status_id else None,
        "report_id": str(entry.report_id) if entry.report_id else None,
        "reason": entry.reason,
        "details": entry.details,
        "created_at": clock.iso(entry.created_at),
    }
