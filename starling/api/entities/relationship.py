"""The Mastodon Relationship entity, built in one place for every endpoint that returns it."""

from __future__ import annotations

from starling.graph.service import Relationship


def relationship_entity(rel: Relationship) -> dict:
    """The viewer's standing with one account. Domain blocks do not exist here; `endorsed` says the viewer
    features the account on their profile; `note` is the viewer's own private note."""
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": rel.endorsed,
        "note": rel.note,
    }
