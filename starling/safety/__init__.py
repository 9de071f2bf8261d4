"""Trust and safety: rate limits, read caps, sign-up defences, spam scoring, moderation, filters."""
