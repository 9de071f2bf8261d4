"""One typed Settings object, read from STARLING_* variables and an optional env file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "secret", "change-me"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STARLING_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str = ""  # default: sqlite file in data_dir
    redis_url: str = ""
    # Every Redis key starts with this, so several instances (or test runs) can share one Redis.
    redis_prefix: str = "starling:"
    domain: str = "localhost:8080"
    https: bool = False
    secret_key: str = ""  # generated into data_dir when absent

    instance_title: str = "Starling"
    instance_description: str = "A Starling microblogging instance."
    contact_email: str = ""
    registrations: Literal["open", "approval", "invite", "closed"] = "open"
    max_characters: int = 500
    max_media_attachments: int = 4
    password_grant: bool = True
    # Sign-in throttle (the password grant and the sign-in page), shared by every process through the
    # database: attempts per address, and failed attempts per username or email, within the window.
    login_attempts_per_ip: int = 25
    login_failures_per_account: int = 10
    login_window_seconds: int = 300

    # Safety: rate limits. Each limit is "N/period" (period like 300s, 5m, 1h, 1d) or "0" for none,
    # counted in fixed windows shared by every process (Redis when configured, else a small SQLite file
    # beside the database). Mastodon's published figures are the starting point; see docs/safety.md.
    ratelimit_enabled: bool = True
    # Requests whose client address is loopback (local scripts, the test rig, a bench) are counted and
    # get the headers but are never refused, as Mastodon safelists localhost.
    ratelimit_exempt_loopback: bool = True
    # X-Forwarded-For is believed only from these peers (comma-separated addresses or CIDRs). Loopback
    # by default, as Rails does: behind a proxy on the same host the limits count the real clients
    # instead of exempting everyone as a loopback client.
    trusted_proxies: str = "127.0.0.1,::1"
    ratelimit_reads_per_token: str = "300/5m"
    ratelimit_reads_per_account: str = "1500/5m"
    ratelimit_reads_per_ip: str = "300/5m"  # requests without a known token
    ratelimit_writes_per_token: str = "300/5m"
    ratelimit_writes_per_account: str = "1500/5m"
    ratelimit_writes_per_ip: str = "300/5m"
    ratelimit_search_per_token: str = "100/5m"
    ratelimit_search_per_ip: str = "60/5m"
    ratelimit_media_per_account: str = "30/30m"
    ratelimit_media_per_token: str = "30/30m"
    ratelimit_sign_up_per_ip: str = "5/30m"
    ratelimit_log_in_per_ip: str = "25/5m"
    # Every request from one address, signed in or not (a ceiling for shared addresses such as NAT).
    ratelimit_any_per_ip: str = "7500/5m"

    # Safety: read caps, posts served per day (UTC) by tier; 0 means no cap.
    readcap_new_unverified: int = 500
    readcap_unverified: int = 1_000
    readcap_verified: int = 10_000
    readcap_new_account_days: int = 30
    readcap_logged_out: int = 200  # per address, over public, tag and account timelines and threads
    public_timelines_logged_out: bool = True

    # Safety: sign-up defences (docs/safety.md). Proof of work is off until sign-ups in the last hour
    # reach the threshold (0: never automatic), or always on with pow_required.
    pow_required: bool = False
    pow_auto_sign_ups_per_hour: int = 20
    pow_difficulty: int = 18  # leading zero bits of SHA-256; each bit doubles the expected work
    pow_ttl_seconds: int = 300
    confirmation_ttl_hours: int = 48
    blocked_email_domains: str = ""  # comma-separated, beside the shipped disposable list
    # New accounts, for their first hours: no links, few posts, no mass follows.
    newcomer_hours: int = 24
    newcomer_links: bool = False
    newcomer_posts_per_hour: int = 10
    newcomer_follows_per_hour: int = 20
    # Failed sign-ins back off in growing windows ("N/period" tiers, comma-separated; "0" for none).
    login_backoff_per_account: str = "20/1h,50/1d"
    login_backoff_per_ip: str = "100/1h,300/1d"
    # With no moderator active for this many days, open registrations turn into approval by themselves.
    moderator_absence_days: int = 7

    # Safety: outgoing mail. With smtp_host set, new accounts must confirm their email address.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout_seconds: float = 10.0

    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    sqlite_busy_timeout_ms: int = 10_000

    # Home feeds: authors above this many followers are merged in at read time, not fanned out.
    fanout_threshold: int = 10_000
    feed_cap: int = 800
    fanout_batch: int = 1_000

    # Redis (scale-out): home feeds in Redis expire this long after their last read (rebuilt from SQL on
    # the next one); shared entity cache entries live at most this long.
    feed_ttl_seconds: int = 14 * 86_400
    redis_entity_ttl_seconds: int = 600
    # Safety: spam and bot scoring (see docs/safety.md). A post whose score reaches the quarantine
    # threshold is shown to its author only and its account joins the moderation queue; an account
    # whose score reaches the invalid-traffic threshold is left out of billing and payouts.
    spam_scoring_enabled: bool = True
    spam_quarantine_score: int = 60
    spam_invalid_traffic_score: int = 60
    spam_new_account_hours: int = 48
    spam_new_domain_hours: int = 72
    spam_blocked_domains: str = ""  # comma-separated; admins can add more in the database
    spam_duplicate_window_hours: int = 48
    spam_duplicate_similarity: float = 0.6  # estimated Jaccard above which two posts are near-duplicates
    spam_campaign_accounts: int = 3  # other accounts posting the same text before it is a campaign
    spam_popular_followers: int = 1_000  # replies aimed at accounts with at least this many followers

    # Media limits.
    media_max_bytes: int = 16 * 1024 * 1024
    media_max_pixels: int = 40_000_000
    media_max_side: int = 3840
    media_preview_side: int = 640

    # Request size limits.
    max_body_bytes: int = 20 * 1024 * 1024
    max_page_limit: int = 40

    # Streaming API: how events cross processes ("auto": Redis pub/sub when STARLING_REDIS_URL is set,
    # else a table every process tails), how often that table is read, how long its rows live, the
    # comment sent on idle server-sent-event streams, how many events may wait for a slow client, and how
    # often an open stream's token is checked again (a revoked token or suspended account is cut off).
    streaming_bus: Literal["auto", "local", "sql", "redis"] = "auto"
    streaming_poll_seconds: float = 0.2
    streaming_retention_seconds: float = 120.0
    streaming_heartbeat_seconds: float = 15.0
    streaming_queue_size: int = 1000
    streaming_token_check_seconds: float = 60.0
    # Web app: how long a browser stays signed in without visiting (each visit extends it).
    web_session_days: int = 30

    embedded_worker: bool = True
    # Serves /bench/bare (a fixed body from memory) so `make bench` can compare against it.
    bench_routes: bool = False
    log_level: str = "info"

    @field_validator("domain")
    @classmethod
    def _domain_not_placeholder(cls, value: str) -> str:
        if not value or "example." in value:
            raise ValueError("STARLING_DOMAIN must name the instance's own host")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'starling.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.domain}"

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once into the data dir (256 bits, CSPRNG)."""
        if self.secret_key:
            if self.secret_key.lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ValueError("STARLING_SECRET_KEY must be at least 32 characters and not a placeholder")
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(32))
            tmp.chmod(0o600)
            try:
                tmp.rename(path) if not path.exists() else tmp.unlink()
            except FileNotFoundError:
                pass
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def media_dir(settings: Settings) -> Path:
    return settings.data_dir / "media"


__all__ = ["Settings", "get_settings", "media_dir"]
