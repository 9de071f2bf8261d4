"""`starling demo`: fill an instance with a believable small network, through the service layer.

A seeded RNG decides everything: who joins, who follows whom (preferential attachment, so a few
accounts end up popular and most have a handful of followers), who posts how often and when (two
weeks of days and nights), what they say (templates and word lists), who replies, boosts and likes,
and which posts carry a generated picture with a description. Then the background jobs run, so home
timelines, notifications and search are ready when the server starts.
"""

from __future__ import annotations

import asyncio
import heapq
import io
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts import service as accounts
from starling.accounts.passwords import hash_password
from starling.app import load_job_handlers
from starling.config import Settings, get_settings
from starling.context import AppContext
from starling.graph import service as graph
from starling.infra import jobs
from starling.media import service as media
from starling.posts import service as posts

DEMO_PASSWORD = "starling-demo-password"
DAYS = 14
BATCH = 100  # events per transaction

FIRST = ("Maya", "Tomasz", "Aiko", "Jonas", "Priya", "Oluwaseun", "Ines", "Mateo", "Freya", "Kwame", "Lena",
         "Rafael", "Sofia", "Dmitri", "Amara", "Ewan", "Noor", "Hugo", "Yuki", "Carmen", "Felix", "Zainab",
         "Arjun", "Elif", "Magnus", "Chiara", "Tariq", "Hannah", "Luis", "Saoirse", "Ravi", "Ingrid", "Kofi",
         "Marta", "Jae", "Anouk", "Pablo", "Leila", "Oskar", "Thandiwe", "Nikolai", "Rosa", "Emeka", "Hana",
         "Bastian", "Ayesha", "Callum", "Mei", "Tobias", "Valentina", "Idris", "Astrid", "Samir", "Greta")
LAST = ("Okafor", "Nowak", "Tanaka", "Berg", "Sharma", "Adeyemi", "Moreau", "Silva", "Larsen", "Mensah",
        "Fischer", "Costa", "Rossi", "Ivanov", "Diallo", "Campbell", "Haddad", "Laurent", "Sato", "Ortega",
        "Weber", "Bello", "Iyer", "Yilmaz", "Holm", "Ricci", "Aziz", "Kowalski", "Reyes", "Murphy", "Patel",
        "Lindqvist", "Asante", "Novak", "Kim", "de Vries", "Navarro", "Karimi", "Jansen", "Dlamini")
HANDLE_STYLES = ("{f}", "{f}_{l}", "{f}{l}", "the_{f}", "{f}{n}", "{l}{f}", "{f}_writes", "{f}_{n}")

TOPICS = {
    "coffee": ("coffee", "espresso", "pourover", "cafe"),
    "garden": ("gardening", "allotment", "plants", "tomatoes"),
    "cycling": ("cycling", "bikes", "commute"),
    "books": ("books", "reading", "bookclub"),
    "cooking": ("cooking", "baking", "sourdough", "soup"),
    "music": ("music", "vinyl", "nowplaying", "jazz"),
    "tech": ("python", "opensource", "selfhosting", "linux", "sqlite"),
    "photo": ("photography", "filmphotography", "sky"),
    "city": ("citylife", "transit", "walking"),
    "weather": ("weather", "rain", "autumn"),
}

TEMPLATES = {
    "coffee": (
        "Third coffee of the day and it is not even {hour}. {mood}",
        "The little cafe on {street} has a new {coffee_thing} and honestly it's {verdict}.",
        "Tried {coffee_thing} at home today. {outcome}",
        "Hot take: {coffee_thing} is {verdict} and I will not be taking questions.",
    ),
    "garden": (
        "The {plant} survived the frost! {mood}",
        "Spent the morning at the allotment weeding between the {plant}. Back hurts, heart full.",
        "Does anyone know why my {plant} leaves are going yellow? {question_tail}",
        "First {plant} of the season, picked straight off the plant and eaten on the spot.",
    ),
    "cycling": (
        "Rode to work along the river today. {distance} km, one heron, zero cars. {mood}",
        "Puncture number {small_number} this month. I am starting to take it personally.",
        "New lights on the bike, finally. The {street} underpass is no longer a place of terror.",
        "Cold, wet, {distance} km. Would do it again tomorrow.",
    ),
    "books": (
        "Just finished {book}. {book_verdict}",
        "Halfway through {book} and I keep stopping to read sentences out loud to nobody.",
        "Book club picked {book} for next month. {question_tail}",
        "Reading {book} on the train and missed my stop. Worth it.",
    ),
    "cooking": (
        "Made {dish} for the first time tonight. {outcome}",
        "The sourdough starter is alive and has been named {pet_name}. It is now my responsibility.",
        "Recipe says 20 minutes, reality says {small_number}0. Every time.",
        "Whoever invented {dish} deserves a statue. A large one.",
    ),
    "music": (
        "On repeat today: {album}. {mood}",
        "Found a copy of {album} at the flea market for {small_number} euros. Best day of the week.",
        "Any recommendations for {genre} that sounds like a rainy afternoon?",
        "Saw a {genre} trio in a basement bar last night and I have not stopped thinking about it.",
    ),
    "tech": (
        "Spent the afternoon {tech_activity}. {tech_outcome}",
        "Today I learned that {til}. Unreasonably pleased about this.",
        "My home server has now been up for {small_number}0 days. Please do not say anything.",
        "Reminder that {til}. You're welcome.",
    ),
    "photo": (
        "The light over the {place} this evening was something else.",
        "Developed a roll of film from last summer. {small_number} keepers out of 36, a personal best.",
        "Walked to the {place} at sunrise just to take one photo. It's blurry. No regrets.",
        "Golden hour on {street}. Everyone on the pavement stopped to look up.",
    ),
    "city": (
        "The {small_number} bus was on time today and I don't know how to process this.",
        "Overheard on {street}: \"{overheard}\"",
        "Someone has been leaving tiny painted stones along {street}. Found number {small_number} today.",
        "The new bike lane on {street} is open and it's already full of cargo bikes and delivery riders.",
    ),
    "weather": (
        "It has rained for {small_number} days straight. The cat has given up on going outside.",
        "First properly cold morning of the year. {mood}",
        "Sun's out, jacket's off, optimism dangerously high.",
        "Forecast said light drizzle. The forecast lied.",
    ),
}

WORDS = {
    "hour": ("ten", "eleven", "nine", "noon"),
    "mood": ("Small joys.", "Not complaining.", "Could be worse!", "Send help.", "Life is good.",
             "I'll allow it.", "Feeling unreasonably cheerful about it.", "Anyway, back to work."),
    "street": ("Mill Lane", "Harbour Street", "Canal Road", "Station Square", "the high street", "Elm Avenue",
               "Victoria Road", "the old market"),
    "coffee_thing": ("oat flat white", "cold brew", "cortado", "Aeropress recipe", "single-origin pourover",
                     "cardamom latte"),
    "verdict": ("very good", "overrated", "a revelation", "fine, just fine", "worth the queue",
                "dangerously drinkable"),
    "outcome": ("Nailed it.", "Edible, mostly.", "Would make again.", "The smoke alarm disagreed.",
                "Family asked for seconds, which I'm counting as a win.",
                "Needs more salt. Everything does."),
    "plant": ("tomatoes", "courgettes", "runner beans", "chillies", "sunflowers", "strawberries", "kale"),
    "question_tail": ("Any advice welcome.", "Asking for a friend.", "Please tell me it's not just me.",
                      "Thoughts?", "Genuinely curious."),
    "distance": ("8", "12", "15", "21", "6", "30"),
    "small_number": ("2", "3", "4", "5", "6", "7", "9"),
    "book": ("The Left Hand of Darkness", "Piranesi", "Station Eleven", "A Psalm for the Wild-Built",
             "The Dispossessed", "Klara and the Sun", "Middlemarch", "The Overstory", "Braiding Sweetgrass"),
    "book_verdict": ("Still thinking about the ending.", "Not sure how I feel yet.", "Instant favourite.",
                     "Slow start, wonderful finish.", "Can't recommend it enough."),
    "dish": ("shakshuka", "dal", "pierogi", "ramen from scratch", "a proper paella", "jollof rice",
             "focaccia", "pho"),
    "pet_name": ("Bread Pitt", "Clint Yeastwood", "Dough-ris", "Sir Rises-a-lot"),
    "album": ("Kind of Blue", "Blue Lines", "Homogenic", "In Rainbows", "A Love Supreme", "Hounds of Love"),
    "genre": ("jazz", "ambient", "folk", "lo-fi", "post-rock", "highlife"),
    "tech_activity": ("moving my notes app to a self-hosted server", "reading SQLite's docs for fun",
                      "untangling a ten-year-old shell script", "writing tests for code I wrote last year",
                      "migrating the family photos off an old laptop"),
    "tech_outcome": ("It worked on the first try, which is suspicious.", "Three hours, one typo.",
                     "Past me left no comments. Past me is a menace.", "Everything is faster now."),
    "til": ("SQLite can hold a whole website's data in one file", "you can undo a git commit without panic",
            "Python dictionaries keep insertion order", "most bugs are off by one"),
    "place": ("harbour", "allotments", "old gasworks", "river", "park", "railway bridge"),
    "overheard": ("I'm not lost, I'm exploring.", "It's not a hobby if you're good at it.",
                  "We should get a boat.", "Pigeons are just city doves."),
}

REPLIES = (
    "Ha, same here!", "This is the content I'm here for.", "Oh I love this.", "Where was this?",
    "Adding it to my list.", "Counterpoint: no.", "You're not alone in this one.", "Tell me more!",
    "I needed to read this today, thank you.", "Okay but now I want one too.",
    "We should compare notes sometime.", "Strong agree.", "This made me laugh out loud on the bus.",
    "Try adding a pinch of salt, works every time.", "Congratulations!", "Oh no. Sending sympathy.",
)
BIOS = (
    "Gardener, reader, occasional baker. Opinions are mostly about soup.",
    "I take photos of doors. Sometimes windows.",
    "Software by day, bread by night.",
    "Commuting by bike, rain or shine. Mostly rain.",
    "Librarian. Collector of bookmarks and stray thoughts.",
    "Here for the jazz recommendations and the cat pictures.",
    "Allotment number 14. Ask me about slugs.",
    "Self-hosting everything I can get my hands on.",
    "Slow runner, fast talker.",
    "Trying to learn the names of all the birds in my street.",
    "",
)
PICTURES = (
    ("sunset", "A gradient sky going from deep orange at the horizon to dusky purple above"),
    ("sea", "Horizontal bands of blue and green, like calm sea meeting a pale sky"),
    ("field", "A wide yellow field under a blue sky, with a low green hedge in between"),
    ("night", "A dark blue night sky with small white dots for stars and a pale round moon"),
    ("blocks", "Overlapping coloured rectangles, an abstract sketch of a city skyline"),
)


@dataclass
class Person:
    id: int
    username: str
    topics: tuple[str, ...]
    activity: float
    popularity: float
    locked: bool = False
    followers: list[int] = field(default_factory=list)


@dataclass
class Network:
    people: list[Person]
    public_posts: list[tuple[int, int, datetime]] = field(default_factory=list)  # (status id, author, time)
    counts: dict[str, int] = field(default_factory=lambda: {"posts": 0, "replies": 0, "boosts": 0,
                                                             "favourites": 0, "images": 0, "follows": 0})


def _fill(rng: random.Random, template: str) -> str:
    out = template
    for key, options in WORDS.items():
        token = "{" + key + "}"
        while token in out:
            out = out.replace(token, rng.choice(options), 1)
    return out


def post_text(rng: random.Random, topic: str) -> str:
    """One post about `topic`, sometimes with a hashtag or two."""
    text = _fill(rng, rng.choice(TEMPLATES[topic]))
    roll = rng.random()
    if roll < 0.45:
        text += " #" + rng.choice(TOPICS[topic])
    elif roll < 0.6:
        text += " #" + " #".join(rng.sample(TOPICS[topic], 2))
    return text


def _unique_username(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        style = rng.choice(HANDLE_STYLES)
        handle = style.format(f=first.lower(), l=last.lower().replace(" ", ""), n=rng.randint(2, 99))
        handle = "".join(c for c in handle if c.isalnum() or c == "_")[:30]
        if handle.lower() not in taken:
            taken.add(handle.lower())
            return handle, f"{first} {last}"


def picture(rng: random.Random, kind: str) -> bytes:
    """A small generated PNG for one of the PICTURES kinds."""
    width, height = 480, 320
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    if kind in ("sunset", "sea", "field"):
        top, bottom = {"sunset": ((90, 40, 120), (250, 140, 40)), "sea": ((200, 225, 240), (20, 90, 130)),
                       "field": ((110, 170, 235), (230, 200, 60))}[kind]
        for y in range(height):
            t = y / (height - 1)
            colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            draw.line([(0, y), (width, y)], fill=colour)
        if kind == "field":
            draw.rectangle([0, 150, width, 175], fill=(60, 120, 50))
    elif kind == "night":
        draw.rectangle([0, 0, width, height], fill=(15, 20, 60))
        for _ in range(120):
            x, y = rng.randrange(width), rng.randrange(height)
            draw.point((x, y), fill=(255, 255, 240))
        draw.ellipse([360, 40, 420, 100], fill=(240, 235, 210))
    else:
        draw.rectangle([0, 0, width, height], fill=(235, 230, 220))
        for _ in range(14):
            x, w, h = rng.randrange(width), rng.randint(30, 90), rng.randint(60, 260)
            colour = tuple(rng.randint(40, 220) for _ in range(3))
            draw.rectangle([x, height - h, x + w, height], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def avatar(rng: random.Random, display_name: str) -> bytes:
    """A round, coloured avatar with initials, like many people never bother to change."""
    size = 128
    image = Image.new("RGB", (size, size), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.ellipse([4, 4, size - 4, size - 4], fill=tuple(rng.randint(60, 200) for _ in range(3)))
    initials = "".join(part[0] for part in display_name.split()[:2]).upper()
    draw.text((size // 2, size // 2), initials, fill=(255, 255, 255), anchor="mm", font_size=48)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _zipf_weights(n: int, exponent: float = 1.1) -> list[float]:
    return [1.0 / (rank + 1) ** exponent for rank in range(n)]


def _weighted_sample(rng: random.Random, population: list[int], weights: list[float], k: int) -> set[int]:
    """k distinct picks, each item's chance proportional to its weight (Efraimidis-Spirakis keys)."""
    keyed = sorted(population, key=lambda i: math.log(1.0 - rng.random()) / weights[i], reverse=True)
    return set(keyed[:k])


async def _make_people(ctx: AppContext, rng: random.Random, count: int, start: datetime) -> list[Person]:
    people: list[Person] = []
    popularity = _zipf_weights(count)
    # Every demo account shares one password: hash it once, not once per account (argon2 is slow on purpose).
    shared_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with ctx.db.write() as session:
        # Running the demo again (or on a used instance) adds new people beside the old ones.
        taken = {a.username.lower() for a in await accounts.list_accounts(session)} | accounts.RESERVED
        for i in range(count):
            clock.set_now(start + timedelta(minutes=i))
            username, display_name = _unique_username(rng, taken)
            account = await accounts.create_account(
                session, ctx.settings, username=username, email=f"{username}@demo.invalid",
                password=DEMO_PASSWORD, allow_reserved=False, password_hash=shared_hash)
            picture_bytes = avatar(rng, display_name)
            key = await asyncio.to_thread(media.store_profile_image, ctx, picture_bytes, "avatar")
            locked = i > 0 and rng.random() < 0.05
            await accounts.update_profile(session, account.id, accounts.ProfileChanges(
                display_name=display_name, note=rng.choice(BIOS), locked=locked, bot=i == count - 1,
                avatar_key=key), settings=ctx.settings)
            topics = tuple(rng.sample(sorted(TOPICS), rng.randint(1, 3)))
            people.append(Person(account.id, username, topics, activity=rng.paretovariate(1.3),
                                 popularity=popularity[i], locked=locked))
    return people


async def _make_follows(ctx: AppContext, rng: random.Random, network: Network) -> None:
    """Preferential attachment: everyone follows a few accounts, popular ones far more often."""
    people = network.people
    n = len(people)
    population = list(range(n))
    weights = [p.popularity for p in people]
    async with ctx.db.write() as session:
        for i, person in enumerate(people):
            k = min(max(2, n // 3), int(1 + rng.paretovariate(2.0) * 1.6))
            for j in sorted(_weighted_sample(rng, population, weights, k + 1) - {i}):
                target = people[j]
                await graph.follow(session, person.id, target.id)
                # Locked accounts accept most requests and leave the rest waiting.
                if target.locked and rng.random() < 0.2:
                    continue
                if target.locked:
                    await graph.authorize_request(session, target.id, person.id)
                target.followers.append(person.id)
                network.counts["follows"] += 1


def _event_times(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """`count` moments between start and end, denser in the day and evening than at night."""
    span = (end - start).total_seconds()
    out = []
    while len(out) < count:
        moment = start + timedelta(seconds=rng.random() * span)
        hour = moment.hour + moment.minute / 60
        if rng.random() < 0.25 + 0.75 * max(0.0, math.sin(math.pi * (hour - 6) / 18)):
            out.append(moment)
    return sorted(out)


@dataclass
class PlannedPost:
    at: datetime
    author: int  # index into Network.people
    topic: str
    visibility: str
    picture: tuple[str, str] | None = None
    media_id: int | None = None


def _plan_posts(rng: random.Random, people: list[Person], count: int, start: datetime,
                end: datetime) -> list[PlannedPost]:
    """When each post happens, who writes it, about what, for whom; about one in 120 has a picture,
    photographers' posts first."""
    weights = [p.activity for p in people]
    authors = rng.choices(range(len(people)), weights=weights, k=count)
    plan = []
    for at, author in zip(_event_times(rng, count, start, end), authors, strict=True):
        roll = rng.random()
        visibility = "public" if roll < 0.87 else "unlisted" if roll < 0.95 else "private"
        plan.append(PlannedPost(at, author, rng.choice(people[author].topics), visibility))
    by_interest = sorted(range(count), key=lambda i: (plan[i].topic != "photo", rng.random()))
    for i in by_interest[:min(25, max(1, count // 120))]:
        plan[i].picture = rng.choice(PICTURES)
    return plan


async def _upload_pictures(ctx: AppContext, rng: random.Random, people: list[Person],
                           plan: list[PlannedPost]) -> None:
    """Upload the planned pictures first: uploads open their own transactions."""
    for item in plan:
        if item.picture is not None:
            clock.set_now(item.at - timedelta(seconds=30))
            kind, description = item.picture
            attachment = await media.create_attachment(ctx, people[item.author].id, picture(rng, kind),
                                                       description=description)
            item.media_id = attachment.id


@dataclass(order=True)
class Interaction:
    at: datetime
    kind: str  # "favourite" | "boost"
    actor: int = field(compare=False)
    status_id: int = field(compare=False)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-min(mean, 50.0)), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _interactions(rng: random.Random, network: Network, author: Person, item: PlannedPost, status_id: int,
                  end: datetime, mean_followers: float) -> list[Interaction]:
    """Likes and boosts a post will get: more for popular authors, mostly from their followers.
    Followers-only posts get likes from followers and no boosts."""
    reach = (len(author.followers) + 1) / mean_followers
    public = item.visibility != "private"
    everyone = [p.id for p in network.people if p.id != author.id] if public else []
    out = []
    for kind, rate in (("favourite", 0.35 * reach), ("boost", 0.1 * reach if public else 0.0)):
        fans = author.followers or everyone
        wanted = _poisson(rng, rate) if fans else 0
        at = item.at
        for actor in set(rng.choice(fans) for _ in range(wanted)):
            when = at + timedelta(minutes=rng.expovariate(1 / 90))
            if when < end:
                out.append(Interaction(when, kind, actor, status_id))
    return out


async def _apply(session: AsyncSession, item: Interaction, network: Network) -> None:
    """One like or boost. The plan only lets people act on posts they can see (no savepoint needed)."""
    if item.kind == "favourite":
        await posts.favourite(session, account_id=item.actor, status_id=item.status_id)
        network.counts["favourites"] += 1
    else:
        await posts.reblog(session, account_id=item.actor, status_id=item.status_id)
        network.counts["boosts"] += 1


async def _make_posts(ctx: AppContext, rng: random.Random, network: Network, count: int, start: datetime,
                      end: datetime) -> None:
    people = network.people
    plan = _plan_posts(rng, people, count, start, end)
    await _upload_pictures(ctx, rng, people, plan)
    mean_followers = sum(len(p.followers) + 1 for p in people) / len(people)
    pending: list[Interaction] = []
    recent: list[tuple[int, int]] = []  # (status id, author index) of recent public posts
    for first in range(0, len(plan), BATCH):
        async with ctx.db.write() as session:
            for item in plan[first:first + BATCH]:
                while pending and pending[0].at <= item.at:
                    due = heapq.heappop(pending)
                    clock.set_now(due.at)
                    await _apply(session, due, network)
                clock.set_now(item.at)
                author = people[item.author]
                reply_to = None
                if recent and rng.random() < 0.22:
                    reply_to = recent[-1 - min(len(recent) - 1, int(rng.expovariate(1 / 6)))]
                if reply_to is not None and reply_to[1] != item.author:
                    text = f"@{people[reply_to[1]].username} {rng.choice(REPLIES)}"
                    if rng.random() < 0.3:
                        text += " " + post_text(rng, item.topic)
                else:
                    reply_to = None
                    text = post_text(rng, item.topic)
                status = await posts.create_status(
                    session, ctx.settings, account_id=author.id, text=text, visibility=item.visibility,
                    in_reply_to_id=reply_to[0] if reply_to else None,
                    media_ids=[item.media_id] if item.media_id else [])
                network.counts["posts"] += 1
                network.counts["replies"] += reply_to is not None
                network.counts["images"] += item.media_id is not None
                if item.visibility == "public":
                    recent.append((status.id, item.author))
                    del recent[:-200]
                for later in _interactions(rng, network, author, item, status.id, end, mean_followers):
                    if later.actor != author.id:
                        heapq.heappush(pending, later)
    async with ctx.db.write() as session:
        while pending:
            due = heapq.heappop(pending)
            clock.set_now(due.at)
            await _apply(session, due, network)


async def build(accounts: int = 200, posts: int = 3000, seed: int = 7, *,
                settings: Settings | None = None) -> str:
    """Create the demo network on the configured database; returns a one-line summary."""
    began = time.monotonic()
    rng = random.Random(seed)
    # A bulk load: NORMAL durability in WAL mode is still crash-consistent and saves an fsync per job.
    settings = (settings or get_settings()).model_copy(update={"sqlite_synchronous": "NORMAL"})
    ctx = AppContext.build(settings)
    end = clock.now().replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    try:
        network = Network(await _make_people(ctx, rng, max(2, accounts), start - timedelta(days=1)))
        clock.set_now(start)
        await _make_follows(ctx, rng, network)
        load_job_handlers()
        await jobs.drain(ctx.db)  # feed merges are cheap now, before anyone has posted
        await _make_posts(ctx, rng, network, posts, start, end)
    finally:
        clock.set_now(None)
    try:
        await jobs.drain(ctx.db)
    finally:
        await ctx.close()
    c = network.counts
    return (f"demo: {len(network.people)} accounts, {c['follows']} follows, {c['posts']} posts "
            f"({c['replies']} replies, {c['images']} with images), {c['boosts']} boosts, "
            f"{c['favourites']} favourites in {time.monotonic() - began:.1f} s; "
            f"every demo account's password is {DEMO_PASSWORD!r}")
