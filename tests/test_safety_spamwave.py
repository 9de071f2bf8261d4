"""A synthetic spam wave against the scorer: a few hundred accounts, new and aged past the new-account
limits, posting near-identical spam with small variations (with and without links, some as
mention-stuffed replies to popular accounts), mixed with ordinary people writing their own varied text.
At least 95 % of the spam must be quarantined or refused, and under 1 % of the normal posts.

Every text is generated here from our own templates. Ordinary posts use the words a keyword list would
catch ("free", "crypto", "giveaway", "follow", "link") so that only the scorer's other signals can tell
them apart; spam campaigns include harmless-sounding ones with no scam words at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from starling import clock
from starling.accounts import passwords
from starling.accounts import service as accounts
from starling.errors import StarlingError
from starling.infra import jobs
from starling.posts import service as posts
from starling.posts.models import Status
from starling.safety.models import StatusScore

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

# ---- ordinary people ----------------------------------------------------------------------------------

PLACES = ["the allotment", "the canal path", "my aunt's kitchen", "the night market", "platform four",
          "the climbing wall", "the library's basement", "a tiny ramen bar", "the ferry", "the hill fort",
          "our stairwell", "the repair café", "the orchard", "the bus depot", "the old observatory",
          "a campsite near the lake", "the community pool", "the pottery studio", "the record shop", "work"]
FOODS = ["lentil soup", "burnt toast", "a plum tart", "cold noodles", "pickled beetroot", "sourdough",
         "leftover curry", "a fig sandwich", "roast squash", "dumplings", "miso porridge", "apple crumble",
         "black beans", "a cheese scone", "tomato rice", "cardamom buns", "grilled sardines", "flatbread"]
THINGS = ["bike chain", "laptop hinge", "garden hose", "kettle", "wool jumper", "camera strap", "desk lamp",
          "umbrella", "tent pole", "sewing machine", "cello string", "window latch", "library card",
          "soldering iron", "hiking boot", "sourdough starter", "bird feeder", "radiator valve"]
PEOPLE = ["my neighbour", "the kid next door", "my sister", "a stranger on the train", "my grandad",
          "the bus driver", "our manager", "my flatmate", "the vet", "an old school friend", "the baker",
          "my dentist", "a lost tourist", "the woman at the post office", "my cousin"]
FEELINGS = ["oddly proud", "completely knackered", "weirdly calm", "a bit homesick", "overjoyed",
            "mildly annoyed", "sleepy but happy", "nervous", "grateful", "restless", "content"]
ANIMALS = ["a heron", "two foxes", "a very loud blackbird", "the neighbour's cat", "a hedgehog", "a seal",
           "a swarm of midges", "a kestrel", "a lost duckling", "three goats", "a slow worm"]
WEATHER = ["drizzle", "a proper thunderstorm", "thick fog", "a freezing wind", "bright sunshine", "sleet",
           "a rainbow over the estate", "heat that made the tarmac soft", "the first frost"]
TOPICS = ["crypto", "the council elections", "the new tram line", "football", "sourdough", "chess openings",
          "bird migration", "tax returns", "the giveaway at the school fete", "free museum Sundays"]
TAGS = ["gardening", "cycling", "bookclub", "photography", "cooking", "birding", "knitting", "running",
        "music", "localhistory", "repair", "climbing", "baking", "chess", "astronomy"]
SITES = ["bbc.co.uk", "wikipedia.org", "theguardian.com", "openstreetmap.org", "archive.org",
         "gutenberg.org", "metoffice.gov.uk", "github.com"]

SENTENCES = [
    "Spent the morning at {place} eating {food}.",
    "Finally fixed my {thing} after {n} weeks of ignoring it.",
    "{person} told me a story about {topic} that I cannot stop thinking about.",
    "Saw {animal} on the way to {place} and nearly missed my stop.",
    "Feeling {feeling} today, no particular reason.",
    "We had {weather} all afternoon so the plans moved indoors.",
    "Does anyone know how to stop a {thing} from squeaking? Asking for {person}.",
    "Made {food} for {n} people and there is somehow still a mountain left.",
    "Hot take: {topic} is more interesting than everyone pretends.",
    "The queue at {place} was {n} people long and nobody complained once.",
    "Lost my {thing} at {place}, found it again in my own coat pocket.",
    "{person} lent me a book about {topic}; I'm {n} pages in and hooked.",
    "Walked {n} kilometres today, saw {animal}, ate {food}. Good day.",
    "Note to self: never try to carry a {thing} on a bike in {weather}.",
    "Free tip: {place} has the best {food} in town and nobody knows.",
    "My {thing} finally gave up after {n} years of faithful service.",
    "Listening to {person} explain {topic} with absolute confidence and zero evidence.",
    "There is {weather} outside and I am {feeling} about it.",
    "Tried a new recipe: {food} with far too much garlic. Would do again.",
    "Somebody at {place} was playing the accordion badly and it made my week.",
    "Question for the timeline: is {food} a breakfast or a dinner?",
    "Booked a repair slot for the {thing}, fingers crossed it's just a loose screw.",
    "Our reading group picked a novel about {topic}, which should start some arguments.",
    "Took {n} photos of {animal} and every single one is blurry.",
    "The lights went out at {place} and everyone just carried on chatting in the dark.",
    "Grateful for {person}, who turned up with {food} when I needed it.",
    "{n} days until the holiday and I have already packed the {thing}.",
    "Follow-up on yesterday: the {thing} is still broken but I've accepted it.",
    "The link between {topic} and my mood is getting hard to deny.",
    "Wrote {n} lines of code today and deleted {m} of them.",
    "If you are near {place} this weekend, the street party looks lovely.",
    "Caught the last train home, shared a bench with {person} and {animal}.",
    "Three things I learned at {place}: bring snacks, bring a {thing}, expect {weather}.",
    "Why does every {thing} I own break in the same week as {person}'s birthday?",
    "Finished a jigsaw of {animal} with {n} pieces. The last one was under the sofa.",
    "Reminder that {place} closes early on Thursdays, as I learned the hard way.",
    "{person} just sent me a voice note about {topic} that lasted {n} minutes.",
    "Painted the hallway a colour the tin called 'quiet {animal}'. It is beige.",
    "I have opinions about {food} and I will share them with anyone at {place}.",
    "Planted {n} bulbs in {weather}; the squirrels will have them by Friday.",
    "The {thing} survived the move, the mirror did not.",
    "Whoever left {food} in the office fridge since March: we know.",
    "Volunteered at {place} this afternoon, {person} taught me to fold maps properly.",
    "Late night thought: {animal} would be a terrible flatmate but a great neighbour.",
    "My step counter says {n} thousand, my legs say more.",
    "Got caught in {weather} without a coat and decided it was character building.",
    "Spent {n} minutes choosing a {thing} online and then bought the first one.",
    "Went to a talk on {topic} at {place}; the speaker's slides kept freezing.",
    "Today's small win: {person} remembered my name and my order.",
    "Cooked {food} from my grandmother's notebook and it tasted like her kitchen.",
    "The river was so high near {place} that {animal} looked seasick.",
    "Starting a tiny project: one photo of {place} every day for {n} days.",
    "Our band played {n} songs at {place}, the {thing} broke during the third.",
    "Please enjoy this fact: {animal} can hear {weather} coming long before we can.",
    "Swapped my {thing} for a box of {food} at the neighbourhood swap. Fair deal.",
    "Sat on the roof watching {weather} roll in, {feeling} and a bit cold.",
    "{person} asked what I do all day. I said 'mostly {topic}', which is true.",
    "Rearranged the shelves by colour, found {n} books I forgot I owned.",
    "Anyone else's {thing} making a noise like {animal}? Just mine? Fine.",
    "Half term plans: {place}, a flask of tea, and absolutely no {topic}.",
]


def normal_text(rng: random.Random, *, with_link: bool) -> str:
    chosen = rng.sample(SENTENCES, rng.choice((2, 2, 3)))
    text = " ".join(s.format(place=rng.choice(PLACES), food=rng.choice(FOODS), thing=rng.choice(THINGS),
                             person=rng.choice(PEOPLE), feeling=rng.choice(FEELINGS), animal=rng.choice(ANIMALS),
                             weather=rng.choice(WEATHER), topic=rng.choice(TOPICS), n=rng.randint(2, 90),
                             m=rng.randint(2, 90)) for s in chosen)
    text = text[0].upper() + text[1:]
    if rng.random() < 0.25:
        text += " " + " ".join(f"#{t}" for t in rng.sample(TAGS, rng.randint(1, 2)))
    if with_link:
        section = rng.choice(["wiki", "news", "articles", "items"])
        text += f" https://{rng.choice(SITES)}/{section}/{rng.randint(1, 99999)}"
    return text


# ---- spam campaigns -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Campaign:
    template: str  # the campaign's text; each {slot} takes one of its alternatives
    slots: dict[str, tuple[str, ...]]
    domain: str | None  # linked (with a random subdomain and path) half of the time, or never


CAMPAIGNS = [
    Campaign("{big} anniversary giveaway today! Send {amount} {coin} to the wallet below and receive double back "
             "within minutes. Limited slots, {hurry}.",
             {"big": ("Huge", "Massive", "Enormous"), "amount": ("0.1", "0.2", "0.5"), "coin": ("BTC", "ETH"),
              "hurry": ("act fast", "don't miss it", "last chance")}, "coin-gift.example.net"),
    Campaign("{love} these polarised sunglasses, {discount} this weekend only, grab yours before they are gone",
             {"love": ("Loving", "Obsessed with", "Can't stop wearing"),
              "discount": ("80% off", "half price", "a fraction of the price")}, "shades-outlet.example.org"),
    Campaign("{hello} I'm building a follow train for {who}: follow everyone who boosts this and watch "
             "your numbers grow together every day",
             {"hello": ("Hey!", "Hi there!", "Hello friend!"),
              "who": ("music lovers", "creatives", "artists and writers")}, None),
    Campaign("Your account has been flagged for {what} and will be suspended within {hours} hours unless you "
             "verify your identity through the appeal form",
             {"what": ("copyright violations", "unusual activity", "policy breaches"), "hours": ("12", "24", "48")},
             "account-appeal-centre.example.com"),
    Campaign("Working from home I made {money} {when} with a simple method. No experience needed, anyone can "
             "do it. {ask} for details",
             {"money": ("$3,000", "$4,500", "$5,200"), "when": ("last week", "this month", "in ten days"),
              "ask": ("Message me", "Ask me", "DM me")}, "easy-income-now.example.biz"),
    Campaign("My new {kind} track just dropped! Perfect for {when}, please give it a listen and {share} with "
             "your friends",
             {"kind": ("lo-fi", "synthwave", "bedroom pop"), "when": ("studying", "late nights", "the commute"),
              "share": ("share it", "repost it", "spread it")}, "beat-stream-promo.example.fm"),
]
EMOJI = ["", "", "🔥", "💰", "🚀", "✨", "👇", "🎉"]
FILLER = ["", "", "", "seriously", "honestly", "wow", "yes", "guys"]


def spam_text(rng: random.Random, campaign: Campaign, *, with_link: bool) -> str:
    words = campaign.template.format(**{k: rng.choice(v) for k, v in campaign.slots.items()}).split()
    if rng.random() < 0.5:  # one word shouted
        i = rng.randrange(len(words))
        words[i] = words[i].upper()
    filler = rng.choice(FILLER)
    if filler:
        words.insert(rng.randrange(len(words)), filler)
    text = " ".join(words) + " " + rng.choice(EMOJI)
    if with_link and campaign.domain:
        sub = "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 8)))
        text += f" https://{sub}.{campaign.domain}/{rng.randint(100, 99999)}?ref={rng.randint(1, 9999)}"
    return text.strip()


# ---- the wave -----------------------------------------------------------------------------------------

@dataclass
class Post:
    at: datetime
    account: int
    text: str
    spam: bool
    reply_to: int | None = None  # index of a popular account's post
    mentions: tuple[str, ...] = ()


async def _accounts(ctx, rng, count: int, prefix: str, *, popular: bool = False) -> list[tuple[int, str]]:
    """`count` accounts, half aged a month (past every new-account limit), half a few hours old."""
    password_hash = passwords.hash_password("correct horse battery")
    made = []
    async with ctx.db.write() as session:
        for i in range(count):
            aged = popular or i % 2 == 0
            born = START - (timedelta(days=30 + rng.randint(0, 300)) if aged
                            else timedelta(hours=rng.uniform(1, 20)))
            clock.set_now(born)
            name = f"{prefix}{i}"
            account = await accounts.create_account(session, ctx.settings, username=name, email=None,
                                                    password="correct horse battery", password_hash=password_hash)
            if prefix == "person":
                account.display_name = f"Person {i}"
            if popular:
                account.followers_count = 5_000 + rng.randint(0, 50_000)
            made.append((account.id, name))
    return made


async def test_spam_wave_is_quarantined_and_people_are_not(ctx, drain):
    rng = random.Random(5)
    celebrities = await _accounts(ctx, rng, 5, "celeb", popular=True)
    people = await _accounts(ctx, rng, 90, "person")
    bots = await _accounts(ctx, rng, 130, "bot")

    plan: list[Post] = []
    for index, (celeb_id, _) in enumerate(celebrities):
        plan.append(Post(START + timedelta(minutes=index), celeb_id, normal_text(rng, with_link=False), False))
    for index, (person_id, _) in enumerate(people):
        aged = index % 2 == 0
        at = START + timedelta(minutes=rng.uniform(10, 600))
        for _ in range(rng.randint(3, 6)):
            at += timedelta(minutes=rng.expovariate(1 / 240))
            mentions = ()
            reply_to = None
            if rng.random() < 0.15:  # a reply to a celebrity, naming one friend
                reply_to = rng.randrange(len(celebrities))
                mentions = (rng.choice(people)[1],)
            plan.append(Post(at, person_id, normal_text(rng, with_link=aged and rng.random() < 0.3), False,
                             reply_to, mentions))
    for index, (bot_id, _) in enumerate(bots):
        campaign = CAMPAIGNS[index % len(CAMPAIGNS)]
        metronome = index % 3 == 0
        gap = rng.uniform(300, 3600)
        at = START + timedelta(minutes=rng.uniform(30, 900))
        for _ in range(rng.randint(2, 5)):
            at += timedelta(seconds=gap if metronome else rng.expovariate(1 / gap))
            reply_to = None
            mentions: tuple[str, ...] = ()
            if index % 4 == 1:  # mention-stuffed replies to popular accounts
                reply_to = rng.randrange(len(celebrities))
                mentions = tuple(name for _, name in rng.sample(celebrities, rng.randint(4, 5)))
            plan.append(Post(at, bot_id, spam_text(rng, campaign, with_link=rng.random() < 0.5), True,
                             reply_to, mentions))
    plan.sort(key=lambda p: p.at)

    celebrity_posts: dict[int, int] = {}
    made: dict[int, bool] = {}  # status id -> spam
    refused = {True: 0, False: 0}
    for step, post in enumerate(plan):
        clock.set_now(post.at)
        text = post.text
        parent = None
        if post.reply_to is not None:
            parent = celebrity_posts.get(post.reply_to)
            text = " ".join(f"@{m}" for m in post.mentions) + " " + text
        try:
            async with ctx.db.write() as session:
                status = await posts.create_status(session, ctx.settings, account_id=post.account, text=text,
                                                   in_reply_to_id=parent)
                made[status.id] = post.spam
        except StarlingError:
            refused[post.spam] += 1
            continue
        if not post.spam and post.account in {c for c, _ in celebrities}:
            celebrity_posts[[c for c, _ in celebrities].index(post.account)] = status.id
        if step % 25 == 0:
            await jobs.drain(ctx.db)
    await drain()

    async with ctx.db.read() as session:
        quarantined = set(await session.scalars(select(Status.id).where(Status.quarantined.is_(True))))
        wrongly = [sid for sid, spam in made.items() if not spam and sid in quarantined]
        why = {row.status_id: (row.score, row.reasons) for row in await session.scalars(
            select(StatusScore).where(StatusScore.status_id.in_(wrongly)))}
        texts = {s.id: s.text for s in await session.scalars(select(Status).where(Status.id.in_(wrongly)))}
    spam_total = sum(1 for p in plan if p.spam)
    normal_total = len(plan) - spam_total
    spam_caught = sum(1 for sid, spam in made.items() if spam and sid in quarantined) + refused[True]
    normal_caught = sum(1 for sid, spam in made.items() if not spam and sid in quarantined) + refused[False]
    recall = spam_caught / spam_total
    false_positive_rate = normal_caught / normal_total
    precision = spam_caught / max(1, spam_caught + normal_caught)
    print(f"\nspam wave: {spam_total} spam posts, {normal_total} normal posts; "
          f"spam caught {spam_caught} ({recall:.1%}), normal caught {normal_caught} "
          f"({false_positive_rate:.2%}), precision {precision:.1%}")
    assert spam_total >= 400 and normal_total >= 400
    assert false_positive_rate < 0.003, [(texts[i], why.get(i)) for i in wrongly]
