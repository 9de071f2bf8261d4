"""The instance's admin-editable options: rows in `instance_settings` over the Settings defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts import repository
from starling.config import Settings
from starling.errors import Unprocessable

RegistrationMode = Literal["open", "approval", "invite", "closed"]
REGISTRATION_MODES = ("open", "approval", "invite", "closed")  # invite: only with an admin's invite link


@dataclass(frozen=True)
class InstanceSettings:
    title: str
    description: str
    registrations: RegistrationMode
    max_characters: int
    contact_email: str

    @property
    def registrations_open(self) -> bool:
        """Whether anyone may sign up (what the instance API tells apps). Under "invite" only people
        holding an invite link may, as on a Mastodon server whose registrations are closed."""
        return self.registrations in ("open", "approval")

    @property
    def approval_required(self) -> bool:
        return self.registrations == "approval"


def _text(limit: int, *, required: bool = False):
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise Unprocessable("Validation failed: must be text")
        value = value.strip()
        if required and not value:
            raise Unprocessable("Validation failed: can't be blank")
        if len(value) > limit:
            raise Unprocessable(f"Validation failed: is too long (maximum is {limit} characters)")
        return value
    return check


def _mode(value: object) -> str:
    if value not in REGISTRATION_MODES:
        raise Unprocessable(f"Validation failed: must be one of {', '.join(REGISTRATION_MODES)}")
    return str(value)


def _characters(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Unprocessable("Validation failed: must be an integer")
    try:
        number = int(value)
    except ValueError:
        raise Unprocessable("Validation failed: must be an integer") from None
    if not 1 <= number <= 100_000:
        raise Unprocessable("Validation failed: must be between 1 and 100000")
    return number


# key -> (validator, Settings attribute holding the default)
_FIELDS = {
    "title": (_text(200, required=True), "instance_title"),
    "description": (_text(5_000), "instance_description"),
    "registrations": (_mode, "registrations"),
    "max_characters": (_characters, "max_characters"),
    "contact_email": (_text(320), "contact_email"),
}
KEYS = tuple(_FIELDS)


async def get_instance_settings(session: AsyncSession, settings: Settings) -> InstanceSettings:
    """The effective options: what an admin stored wins over the configured defaults."""
    stored = await repository.instance_setting_rows(session)
    values: dict[str, object] = {}
    for key, (validate, default_attr) in _FIELDS.items():
        value = getattr(settings, default_attr)
        if key in stored:
            try:
                value = validate(stored[key])
            except Unprocessable:
                pass  # a row written by hand that no longer validates falls back to the default
        values[key] = value
    return InstanceSettings(**values)  # type: ignore[arg-type]


async def set_instance_setting(session: AsyncSession, key: str, value: object) -> object:
    """Validate and store one option; returns the stored (normalised) value."""
    if key not in _FIELDS:
        raise Unprocessable(f"Validation failed: unknown instance setting {key!r}")
    validate, _ = _FIELDS[key]
    try:
        normalised = validate(value)
    except Unprocessable as exc:
        message = exc.message.replace("Validation failed: ", f"Validation failed: {key} ")
        raise Unprocessable(message) from None
    await repository.put_instance_setting(session, key, normalised)
    return normalised


async def update_instance_settings(session: AsyncSession, values: dict[str, object]) -> None:
    """Validate every given option, then store them all, or none: Unprocessable with `details` keyed by
    option when any is wrong."""
    problems: dict[str, list[dict[str, str]]] = {}
    normalised: dict[str, object] = {}
    for key, value in values.items():
        if key not in _FIELDS:
            problems[key] = [{"error": "ERR_UNKNOWN", "description": "is not an instance setting"}]
            continue
        try:
            normalised[key] = _FIELDS[key][0](value)
        except Unprocessable as exc:
            problems[key] = [{"error": "ERR_INVALID",
                              "description": exc.message.removeprefix("Validation failed: ")}]
    if problems:
        parts = [f"{key} {p[0]['description']}" for key, p in problems.items()]
        raise Unprocessable("Validation failed: " + ", ".join(parts), details=problems)
    for key, value in normalised.items():
        await repository.put_instance_setting(session, key, value)
