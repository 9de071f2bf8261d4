"""Rate limits: plain ASGI middleware that counts every request per token, per account and per address,
by endpoint family, and answers 429 before the request reaches a route (so before any database query).

The token is identified by a hash of the bearer header (a browser by a hash of its session cookie),
never by loading it. The account behind a token is learnt from the route's own authentication after the
first answer, kept in a small per-process map, so later requests of any of that account's tokens count
against the account too. Counters are fixed windows in the shared store (safety.counters), counted in
per-process batches while a counter is within a quarter of its limit and exactly beyond (counters.Tally).
The family table, its defaults and the overshoot bound: docs/safety.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import orjson

from starling.config import Settings
from starling.safety import counters as counters_module

FAMILIES = ("reads", "writes", "search", "media", "sign_up", "log_in")
KINDS = ("token", "account", "ip")
SEARCH_PATHS = ("/api/v2/search", "/api/v1/search", "/api/v1/accounts/search", "/search")
MEDIA_PATHS = ("/api/v1/media", "/api/v2/media")
SIGN_UP_PATHS = ("/api/v1/accounts", "/auth/sign_up")
LOG_IN_PATHS = ("/oauth/token", "/oauth/authorize", "/auth/sign_in")
UNLIMITED_PREFIXES = ("/static/", "/bench/")
UNLIMITED_PATHS = ("/health", "/favicon.ico", "/robots.txt")
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
ACCOUNT_MEMORY = 50_000
SPENT_MEMORY = 100_000
REFUSAL = orjson.dumps({"error": "Too many requests"})
REFUSAL_PAGE = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slow down</title></head>'
                b"<body><h1>Slow down</h1><p>Too many requests from you in a short time. Wait a few minutes "
                b"and try again.</p></body></html>")
API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke")


def parse_limit(spec: str) -> tuple[int, int] | None:
    """"300/5m" -> (300, 300); "0" or "" -> None (no limit). Raises ValueError on anything else."""
    if spec.strip() in ("", "0"):
        return None
    found = _SPEC.match(spec)
    if not found or int(found.group(1)) < 1 or int(found.group(2)) < 1:
        raise ValueError(f"a rate limit must look like 300/5m, not {spec!r}")
    return int(found.group(1)), int(found.group(2)) * _UNITS[found.group(3)]


@dataclass(frozen=True)
class Rule:
    family: str  # a family, or "any" for the per-address ceiling
    kind: str  # token | account | ip
    limit: int
    period: int


def rules_from(settings: Settings) -> dict[str, list[Rule]]:
    """Each family's rules, from the ratelimit_<family>_per_<kind> settings."""
    table: dict[str, list[Rule]] = {}
    for family in (*FAMILIES, "any"):
        table[family] = []
        for kind in KINDS:
            spec = getattr(settings, f"ratelimit_{family}_per_{kind}", None)
            parsed = parse_limit(spec) if spec is not None else None
            if parsed:
                table[family].append(Rule(family, kind, *parsed))
    return table


def family_of(method: str, path: str) -> str | None:
    """Which budget a request spends, or None for what is not limited (static files, health, bench)."""
    if method == "OPTIONS" or path.startswith(UNLIMITED_PREFIXES) or path in UNLIMITED_PATHS:
        return None
    if method == "POST":
        if path in SIGN_UP_PATHS:
            return "sign_up"
        if path in LOG_IN_PATHS:
            return "log_in"
        if path in MEDIA_PATHS:
            return "media"
    if path in SEARCH_PATHS:
        return "search"
    if method in ("GET", "HEAD"):
        return "reads"
    return "writes"


class TrustedProxies:
    """The peers whose X-Forwarded-For is believed."""

    def __init__(self, spec: str):
        self.networks = [ipaddress.ip_network(part.strip(), strict=False)
                         for part in spec.split(",") if part.strip()]
        self._trusts = lru_cache(maxsize=4096)(self._trusts_uncached)

    def __contains__(self, host: str) -> bool:
        return bool(self.networks) and self._trusts(host)

    def _trusts_uncached(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer, or, behind trusted proxies, the right-most address in
        X-Forwarded-For that is not itself a trusted proxy."""
        if not forwarded_for or peer not in self:
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self:
                return hop if _is_address(hop) else peer
        return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=65_536)  # parsing an address costs microseconds; a flood repeats one address
def address_key(host: str) -> str:
    """What an address is counted under: IPv4 as it is, IPv6 by its /64 (one subscriber's block)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@lru_cache(maxsize=65_536)
def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_key(raw: str) -> str:
    """A short hash naming a token in counter keys (not the digest stored in the database)."""
    return hashlib.sha256(b"starling-ratelimit:" + raw.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _credential(scope, cookie_name: bytes) -> str | None:
    """The bearer token (header or access_token parameter), else the web session cookie: what a
    request is signed in with, unverified."""
    cookie = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value[:7].lower() == b"bearer ":
                raw = value[7:].strip()
                return raw.decode("latin-1") if raw else None
            return None
        if name == b"cookie" and cookie_name in value:
            cookie = value
    query = scope.get("query_string", b"")
    if b"access_token=" in query:
        for part in query.split(b"&"):
            if part.startswith(b"access_token="):
                return part[13:].decode("latin-1") or None
    if cookie is not None:
        for part in cookie.split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == cookie_name and value:
                return "cookie:" + value.decode("latin-1")
    return None


def _header(scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return value.decode("latin-1")
    return None


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class Verdict:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the tightest window ends
    refused: bool
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"x-ratelimit-limit", str(self.limit).encode()),
                (b"x-ratelimit-remaining", str(max(0, self.remaining)).encode()),
                (b"x-ratelimit-reset", _iso(self.reset).encode())]


class RateLimiter:
    """The middleware. It also leaves the client's address in the request state (`client_ip`, and
    `rate_exempt` for loopback clients) for the routes that need it (read caps, sign-up, sign-in)."""

    def __init__(self, app, ctx, session_cookie: str = ""):
        self.app = app
        self.ctx = ctx
        self.cookie_name = session_cookie.encode() or b"\x00"
        settings: Settings = ctx.settings
        self.enabled = settings.ratelimit_enabled
        self.exempt_loopback = settings.ratelimit_exempt_loopback
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.rules = rules_from(settings)
        self.prefix = settings.redis_prefix + "rl:"
        self.accounts: OrderedDict[str, int] = OrderedDict()  # token key -> account id, learnt
        self.spent: dict[str, int] = {}  # counter key -> end of its window, for limits used up

    @property
    def counters(self) -> counters_module.Tally:
        return counters_module.tally_for(self.ctx)

    def client_ip(self, scope) -> str:
        peer = scope["client"][0] if scope.get("client") else "unknown"
        if not self.proxies.networks:
            return peer
        return self.proxies.client(peer, _header(scope, b"x-forwarded-for"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        ip = self.client_ip(scope)
        exempt = self.exempt_loopback and is_loopback(ip)
        state = scope.setdefault("state", {})
        state["client_ip"] = ip
        state["rate_exempt"] = exempt
        family = family_of(scope["method"], scope["path"]) if self.enabled else None
        if family is None:
            return await self.app(scope, receive, send)
        raw = _credential(scope, self.cookie_name)
        tkey = token_key(raw) if raw else None
        verdict = await self.check(family, ip, tkey)
        if verdict is not None and verdict.refused and not exempt:
            return await self._refuse(verdict, send, page=not scope["path"].startswith(API_PREFIXES))
        extra = verdict.headers() if verdict is not None else []

        async def send_with_headers(message):
            if message["type"] == "http.response.start" and extra:
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if tkey is not None and tkey not in self.accounts:
            web = state.get("web_session")
            self._learn(tkey, state.get("auth") or (web[1] if web else None))

    def _learn(self, tkey: str, auth) -> None:
        account_id = getattr(auth, "account_id", None) or getattr(auth, "id", None)
        if account_id is not None:
            self.accounts[tkey] = account_id
            if len(self.accounts) > ACCOUNT_MEMORY:
                self.accounts.popitem(last=False)

    async def check(self, family: str, ip: str, tkey: str | None) -> Verdict | None:
        """Count this request against every rule that applies; the tightest rule's standing."""
        account_id = self.accounts.get(tkey) if tkey is not None else None
        now = int(time.time())
        applied: list[tuple[Rule, int]] = []
        keys = []
        for rule in (*self.rules[family], *self.rules["any"]):
            if rule.kind == "token":
                if tkey is None:
                    continue
                ident = tkey
            elif rule.kind == "account":
                if account_id is None:
                    continue
                ident = str(account_id)
            elif rule.family != "any" and account_id is not None:
                continue  # a known token's requests are not counted per address (the ceiling aside)
            else:
                ident = address_key(ip)
            window = now // rule.period
            key = f"{self.prefix}{rule.family}:{rule.kind}:{ident}:{window}"
            known = self.spent.get(key)
            if known is not None:
                # Over this limit for the rest of the window: refuse without touching the store. This
                # is what keeps a flood cheap (and a key names its window, so it never goes stale).
                return Verdict(rule.limit, 0, known, True, max(1, known - now))
            applied.append((rule, (window + 1) * rule.period))
            keys.append((key, 1, rule.period + 5, int(rule.limit * counters_module.BATCH_SHARE)))
        if not keys:
            return None
        counts = await self.counters.add(keys)
        tightest: Verdict | None = None
        retry_after = 0
        for (rule, reset), count, (key, _, _, _) in zip(applied, counts, keys, strict=True):
            remaining = rule.limit - count
            if remaining < 0:
                retry_after = max(retry_after, reset - now)
                self._remember_spent(key, reset, now)
            if tightest is None or remaining < tightest.remaining:
                tightest = Verdict(rule.limit, remaining, reset, False, 0)
        assert tightest is not None
        if retry_after:
            return Verdict(tightest.limit, 0, tightest.reset, True, max(1, retry_after))
        return tightest

    def _remember_spent(self, key: str, reset: int, now: int) -> None:
        if len(self.spent) >= SPENT_MEMORY:
            self.spent = {k: r for k, r in self.spent.items() if r > now}
            if len(self.spent) >= SPENT_MEMORY:
                self.spent.clear()
        self.spent[key] = reset

    async def _refuse(self, verdict: Verdict, send, *, page: bool = False) -> None:
        body, kind = (REFUSAL_PAGE, b"text/html; charset=utf-8") if page else (REFUSAL, b"application/json")
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", kind),
                                (b"content-length", str(len(body)).encode()),
                                (b"retry-after", str(verdict.retry_after).encode()), *verdict.headers()]})
        await send({"type": "http.response.body", "body": body})


def client_ip(request) -> str | None:
    """The client's address as the rate limiter resolved it (trusted proxies applied)."""
    ip = request.scope.get("state", {}).get("client_ip")
    if ip:
        return ip
    return request.client.host if request.client else None


def is_exempt(request) -> bool:
    """Whether this request comes from a loopback client the limits only count."""
    return bool(request.scope.get("state", {}).get("rate_exempt"))
