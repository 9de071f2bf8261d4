"""Every table, imported in one place so migrations and tests see the whole schema."""

from starling.accounts.models import (
    AccessToken,
    Account,
    Application,
    AuthorizationCode,
    InstanceSetting,
    LoginAttempt,
    WebSession,
)
from starling.conversations.models import AccountConversation, AccountConversationStatus
from starling.graph.models import Block, Follow, FollowRequest, Mute, SuggestionDismissal
from starling.infra.db import Base
from starling.infra.jobs import Job
from starling.infra.pubsub import StreamEvent
from starling.media.models import MediaAttachment
from starling.notifications.models import Marker, Notification
from starling.posts.models import Bookmark, Favourite, IdempotencyKey, Mention, Pin, Status, StatusEdit, StatusTag, Tag
from starling.safety.models import (
    AccountScore,
    AccountWarning,
    ActivityCount,
    Appeal,
    EmailDomainBlock,
    Filter,
    FilterKeyword,
    FilterStatus,
    Invite,
    IpBlock,
    LinkDomain,
    MinHashBand,
    ModerationLogEntry,
    Report,
    SignUp,
    StatusScore,
    TextFingerprint,
)
from starling.timelines.models import HomeFeedEntry, List, ListAccount

metadata = Base.metadata

__all__ = [
    "AccessToken", "Account", "Application", "AuthorizationCode", "InstanceSetting", "LoginAttempt", "Block", "Follow",
    "FollowRequest", "Mute", "Job", "MediaAttachment", "Marker", "Notification", "Bookmark", "Favourite",
    "IdempotencyKey", "Mention", "Pin", "Status", "StatusEdit", "StatusTag", "Tag", "HomeFeedEntry", "List",
    "ListAccount", "StreamEvent", "WebSession", "metadata", "AccountConversation", "AccountConversationStatus",
    "SuggestionDismissal",
    # safety: scoring, reports, moderation, filters
    "AccountScore", "AccountWarning", "ActivityCount", "Appeal", "Filter", "FilterKeyword", "FilterStatus",
    "LinkDomain", "MinHashBand", "ModerationLogEntry", "Report", "StatusScore", "TextFingerprint",
    # safety: sign-up defences
    "EmailDomainBlock", "Invite", "IpBlock", "SignUp",
]
