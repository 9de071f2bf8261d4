"""The Mastodon Application entity (and CredentialApplication, which adds the client credentials)."""

from __future__ import annotations

from starling.accounts.models import Application
from starling.accounts.oauth import redirect_uris_of, scopes_of


def application_entity(app: Application, *, client_secret: str | None = None) -> dict:
    """`client_secret` is given only when the app was just created: it is never stored in the clear."""
    uris = redirect_uris_of(app)
    entity = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": scopes_of(app),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if client_secret is not None:
        entity["client_id"] = app.client_id
        entity["client_secret"] = client_secret
        entity["client_secret_expires_at"] = 0
    return entity
