"""The Mastodon Instance entities (v2, and the older v1 shape) built from the instance's options."""

from __future__ import annotations

import starling
from starling.accounts.instance import InstanceSettings
from starling.accounts.service import InstanceStats
from starling.context import AppContext

IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"]
THUMBNAIL = "/static/preview.png"
POLLS = {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300, "max_expiration": 2629746}
ACCOUNTS = {"max_featured_tags": 10, "max_pinned_statuses": 5}


def version() -> str:
    return f"{starling.MASTODON_API_VERSION} (compatible; Starling {starling.__version__})"


def _streaming_url(ctx: AppContext) -> str:
    return f"{'wss' if ctx.settings.https else 'ws'}://{ctx.settings.domain}"


def _statuses(ctx: AppContext, options: InstanceSettings) -> dict:
    return {"max_characters": options.max_characters,
            "max_media_attachments": ctx.settings.max_media_attachments,
            "characters_reserved_per_url": 23}


def _media(ctx: AppContext) -> dict:
    # Images only for now: the video limits say so to clients that check them.
    return {"supported_mime_types": IMAGE_TYPES, "description_limit": 1500,
            "image_size_limit": ctx.settings.media_max_bytes,
            "image_matrix_limit": ctx.settings.media_max_pixels,
            "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0}


def instance_v2(ctx: AppContext, options: InstanceSettings, stats: InstanceStats,
                contact: dict | None) -> dict:
    thumbnail = f"{ctx.settings.base_url}{THUMBNAIL}"
    return {
        "domain": ctx.settings.domain,
        "title": options.title,
        "version": version(),
        "source_url": f"{ctx.settings.base_url}/",
        "description": options.description,
        "usage": {"users": {"active_month": stats.active_month}},
        "thumbnail": {"url": thumbnail, "versions": {"@1x": thumbnail, "@2x": thumbnail}},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": _streaming_url(ctx), "status": None},
            "vapid": {"public_key": ""},
            "accounts": dict(ACCOUNTS),
            "statuses": _statuses(ctx, options),
            "media_attachments": _media(ctx),
            "polls": dict(POLLS),
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": options.registrations_open,
                          "approval_required": options.approval_required,
                          "reason_required": options.approval_required, "message": None, "url": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": options.contact_email, "account": contact},
        "rules": [],
    }


def instance_v1(ctx: AppContext, options: InstanceSettings, stats: InstanceStats,
                contact: dict | None) -> dict:
    return {
        "uri": ctx.settings.domain,
        "title": options.title,
        "short_description": options.description,
        "description": options.description,
        "email": options.contact_email,
        "version": version(),
        "urls": {"streaming_api": _streaming_url(ctx)},
        "stats": {"user_count": stats.users, "status_count": stats.statuses, "domain_count": 0},
        "thumbnail": f"{ctx.settings.base_url}{THUMBNAIL}",
        "languages": ["en"],
        "registrations": options.registrations_open,
        "approval_required": options.approval_required,
        "invites_enabled": False,
        "configuration": {
            "accounts": dict(ACCOUNTS),
            "statuses": _statuses(ctx, options),
            "media_attachments": _media(ctx),
            "polls": dict(POLLS),
        },
        "contact_account": contact,
        "rules": [],
    }
